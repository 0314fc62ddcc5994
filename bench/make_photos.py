"""Makes the benchmark photos: astronaut.png (512x512) as is, and a 1024x1024 Lanczos upscale."""
import sys
from pathlib import Path

from PIL import Image

samples, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
img = Image.open(samples / "astronaut.png").convert("RGB")
img.save(out / "photo-512.png")
img.resize((1024, 1024), Image.LANCZOS).save(out / "photo-1024.png")
