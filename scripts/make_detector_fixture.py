"""Makes engine/tests/fixtures/detections.json: what the reference NudeNet (nudenet==3.4.2's
own nudenet.py on Python onnxruntime 1.31.1 and OpenCV) reports for the three sample photos
from the scikit-image wheel and a few crops/flips of them (wide and tall, so both padding
paths are exercised). No image is committed: the test makes the same crops. Run with the
reference venv (scripts/pyref.sh):

    .venv-ref/bin/python scripts/make_detector_fixture.py data/models
"""
import json
import os
import sys

import cv2
from nudenet import NudeDetector

CASES = [
    {"name": "astronaut", "source": "astronaut"},
    {"name": "coffee", "source": "coffee"},
    {"name": "chelsea", "source": "chelsea"},
    {"name": "astronaut_wide", "source": "astronaut", "crop": [0, 40, 512, 300]},
    {"name": "astronaut_tall", "source": "astronaut", "crop": [120, 0, 260, 512]},
    {"name": "astronaut_small", "source": "astronaut", "crop": [150, 60, 150, 170]},
    {"name": "astronaut_flip", "source": "astronaut", "hflip": True},
]

models = sys.argv[1] if len(sys.argv) > 1 else "data/models"
detector = NudeDetector(model_path=os.path.join(models, "320n.onnx"))
for case in CASES:
    img = cv2.imread(os.path.join(models, "samples", case["source"] + ".png"))
    if "crop" in case:
        x, y, w, h = case["crop"]
        img = img[y : y + h, x : x + w]
    if case.get("hflip"):
        img = img[:, ::-1]
    dets = detector.detect(img.copy())
    case["detections"] = [{"label": d["class"], "score": round(d["score"], 6), "box": d["box"]} for d in dets]
    print(case["name"], case["detections"])
here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "..", "engine", "tests", "fixtures", "detections.json")
with open(path, "w") as f:
    json.dump(CASES, f, indent=1)
    f.write("\n")
print("wrote", path)
