//! Video in and out through Debian's `ffmpeg` and `ffprobe`, run as locked-down subprocesses.
//! No codec is reimplemented here: this module only starts the tools, feeds and reads raw
//! frames, and checks what they report.
//!
//! Every invocation:
//! - names the demuxer itself from the file's magic bytes ([`Container::sniff`]: MP4/MOV or
//!   WebM/Matroska, nothing else), so a playlist or a renamed file is never parsed as what it
//!   claims to be; `-protocol_whitelist file,pipe`, so no network and no `concat:`/`subfile:`;
//! - reads only files this process wrote (the caller's temporary folder) and pipes;
//! - runs with `-nostdin`, a cleared environment, the temporary folder as its working
//!   directory, a thread cap (`-threads`, `-filter_threads`), a file-size limit
//!   (`RLIMIT_FSIZE`) and no core dumps, in its own process group;
//! - has a wall-clock limit: a watchdog kills the whole process group when it passes, and
//!   dropping a running [`Encoder`] or [`FrameReader`] kills it too (a cancelled job leaves no
//!   process behind).
//!
//! Formats: FFmpeg's documentation (`ffmpeg-formats(1)`, `ffmpeg-codecs(1)`), ISO/IEC 14496-12
//! (ISO BMFF boxes) for the XMP label ([`append_xmp_box`]).

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use image::RgbImage;
use serde::Deserialize;

/// Why a video step failed.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// The member's file is not a video Darkroom takes, or breaks a limit (told to them as is).
    #[error("{0}")]
    BadInput(String),
    /// `ffmpeg`/`ffprobe` is not installed where expected.
    #[error("video tools missing: {0}")]
    Missing(String),
    /// The tool ran past its wall-clock limit and was killed.
    #[error("video processing took longer than {0:?} and was stopped")]
    Timeout(Duration),
    /// The tool failed (its exit status and last stderr line) or its output was unreadable.
    #[error("video processing failed: {0}")]
    Failed(String),
}

/// The containers Darkroom reads: MP4/MOV (ISO BMFF, `ftyp` box) and WebM/Matroska (EBML).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    Mp4,
    WebM,
}

impl Container {
    /// Reads the magic bytes: an ISO BMFF `ftyp` box first (bytes 4..8), or the EBML header
    /// `1A 45 DF A3`. Anything else (ZIP, HTML, an HLS playlist, a bare stream) is `None`.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
            Some(Container::Mp4)
        } else if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            Some(Container::WebM)
        } else {
            None
        }
    }

    /// FFmpeg's demuxer for it (`-f`): `mov` or `matroska`.
    pub fn demuxer(self) -> &'static str {
        match self {
            Container::Mp4 => "mov",
            Container::WebM => "matroska",
        }
    }

    /// MIME type: `video/mp4`, `video/webm`.
    pub fn mime(self) -> &'static str {
        match self {
            Container::Mp4 => "video/mp4",
            Container::WebM => "video/webm",
        }
    }

    /// File extension: `mp4`, `webm`.
    pub fn ext(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::WebM => "webm",
        }
    }
}

/// The one tag Darkroom's files carry on their video stream, in place of the encoder's name
/// and version that ffmpeg writes otherwise (the MP4 sample entry's compressor name).
const ENCODER_TAG: &str = "encoder=Darkroom";

/// The video codecs an upload may carry (FFmpeg's decoder names).
pub const ACCEPTED_CODECS: [&str; 5] = ["h264", "hevc", "vp8", "vp9", "av1"];

/// A frame rate as a fraction (frames per `den` seconds), as FFmpeg reports and takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fps {
    pub num: u32,
    pub den: u32,
}

impl Fps {
    /// Whole frames per second.
    pub fn whole(n: u32) -> Self {
        Self { num: n, den: 1 }
    }

    /// Frames per second as a number.
    pub fn value(self) -> f64 {
        if self.den == 0 {
            0.0
        } else {
            self.num as f64 / self.den as f64
        }
    }

    /// Parses FFmpeg's `num/den` (`30000/1001`). `None` for `0/0` or junk.
    pub fn parse(s: &str) -> Option<Self> {
        let (n, d) = s.split_once('/')?;
        let fps = Self { num: n.trim().parse().ok()?, den: d.trim().parse().ok()? };
        (fps.num > 0 && fps.den > 0).then_some(fps)
    }

    fn arg(self) -> String {
        format!("{}/{}", self.num, self.den)
    }
}

/// What `ffprobe` found in a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub container: Container,
    /// Seconds, from the container (or the video stream when the container has none).
    pub duration_secs: f64,
    /// The first video stream, if any.
    pub video: Option<VideoStream>,
    /// Whether an audio stream is present.
    pub audio: bool,
    /// The container's tags (title, encoder, location, ...), by name.
    pub tags: Vec<(String, String)>,
    /// Every stream's codec type (`video`, `audio`, `data`, `subtitle`, ...).
    pub stream_types: Vec<String>,
}

/// A video stream as `ffprobe` reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoStream {
    /// FFmpeg's codec name (`h264`, `vp9`, ...).
    pub codec: String,
    /// Pixels, as stored (before any rotation in the display matrix).
    pub width: u32,
    pub height: u32,
    /// Pixel format (`yuv420p`, ...).
    pub pix_fmt: String,
    /// Average frame rate (`avg_frame_rate`), or the base rate when the average is unknown.
    pub fps: Option<Fps>,
    /// Frames, when the container says (`nb_frames`).
    pub frames: Option<u64>,
    /// H.264 profile (`High`, `Constrained Baseline`), when reported.
    pub profile: Option<String>,
    /// The stream's tags (`rotate`, `handler_name`, ...).
    pub tags: Vec<(String, String)>,
}

/// `p` made absolute against this process's working directory: the tools run in another
/// (their file's folder), so a relative path would name another file.
fn absolute(p: &Path) -> Result<PathBuf, VideoError> {
    std::path::absolute(p).map_err(|e| VideoError::Failed(format!("{}: {e}", p.display())))
}

/// Locked-down runs of `ffmpeg` and `ffprobe` (see the module's documentation).
#[derive(Clone, Debug)]
pub struct VideoTools {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
    /// Threads each run may use (`-threads`, `-filter_threads`).
    pub threads: u32,
    /// Wall-clock limit of each run.
    pub timeout: Duration,
    /// Largest file a run may write, in bytes (`RLIMIT_FSIZE`).
    pub max_file_bytes: u64,
}

impl VideoTools {
    /// Finds `ffmpeg` and `ffprobe` in `/usr/bin` (Debian's packages) or `/usr/local/bin`.
    /// Errors: [`VideoError::Missing`] when either is absent (install Debian's `ffmpeg`).
    pub fn find(threads: u32, timeout: Duration) -> Result<Self, VideoError> {
        let locate = |name: &str| {
            ["/usr/bin", "/usr/local/bin", "/bin"]
                .iter()
                .map(|d| Path::new(d).join(name))
                .find(|p| p.is_file())
                .ok_or_else(|| VideoError::Missing(format!("{name} not found in /usr/bin (apt-get install ffmpeg)")))
        };
        Ok(Self { ffmpeg: locate("ffmpeg")?, ffprobe: locate("ffprobe")?, threads: threads.max(1), timeout, max_file_bytes: 2 << 30 })
    }

    /// The common locked-down command: cleared environment, working directory `dir`, own
    /// process group, file-size limit, no core dumps.
    fn command(&self, program: &Path, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear().current_dir(dir).process_group(0).stderr(Stdio::piped());
        let fsize = self.max_file_bytes;
        // SAFETY: only async-signal-safe calls (setrlimit) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit { rlim_cur: fsize as libc::rlim_t, rlim_max: fsize as libc::rlim_t };
                libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
                let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
                libc::setrlimit(libc::RLIMIT_CORE, &none);
                Ok(())
            });
        }
        cmd
    }

    fn input_args(container: Container, input: &Path) -> Vec<String> {
        vec![
            "-protocol_whitelist".into(),
            "file,pipe".into(),
            "-f".into(),
            container.demuxer().into(),
            "-i".into(),
            format!("file:{}", input.display()),
        ]
    }

    /// Probes `input` (a file this process wrote) with `ffprobe -of json`. The container is
    /// sniffed from the file's first bytes and forced. Errors: [`VideoError::BadInput`] for a
    /// file that is no MP4/WebM or that `ffprobe` cannot read; [`VideoError::Timeout`].
    pub fn probe(&self, input: &Path) -> Result<Probe, VideoError> {
        let input = &absolute(input)?;
        let mut head = [0u8; 16];
        let n = std::fs::File::open(input).and_then(|mut f| f.read(&mut head)).map_err(|e| VideoError::Failed(format!("reading {}: {e}", input.display())))?;
        let container = Container::sniff(&head[..n]).ok_or_else(|| VideoError::BadInput("This file is not an MP4 or WebM video.".into()))?;
        let dir = input.parent().unwrap_or(Path::new("/"));
        let mut cmd = self.command(&self.ffprobe, dir);
        cmd.args(["-v", "error", "-of", "json", "-show_format", "-show_streams"]);
        cmd.args(Self::input_args(container, input));
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
        let run = Run::start(cmd, self.timeout)?;
        let (out, err, ok) = run.finish_reading()?;
        if !ok {
            return Err(VideoError::BadInput(format!("This video cannot be read ({}).", last_line(&err))));
        }
        parse_probe(container, &out)
    }

    /// Starts an encoder writing `out`: raw RGB frames of `width`×`height` at `fps` in, the
    /// `codec`'s file out (H.264 MP4 `yuv420p` with `+faststart`, or VP9 WebM `yuv420p`), no
    /// metadata (`-map_metadata -1`, bit-exact muxing: no encoder tag). Width and height must
    /// be even (4:2:0 chroma). The stream's `encoder` tag says `Darkroom`, as the label's
/// `xmp:CreatorTool` does. Errors: [`VideoError::BadInput`] for odd or zero sizes.
    pub fn encoder(&self, out: &Path, width: u32, height: u32, fps: Fps, codec: OutputCodec) -> Result<Encoder, VideoError> {
        let out = &absolute(out)?;
        if width == 0 || height == 0 || width % 2 == 1 || height % 2 == 1 {
            return Err(VideoError::BadInput(format!("frame size {width}x{height} must be even and non-zero")));
        }
        let dir = out.parent().unwrap_or(Path::new("/"));
        let mut cmd = self.command(&self.ffmpeg, dir);
        let threads = self.threads.to_string();
        cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-threads", &threads, "-filter_threads", &threads]);
        cmd.args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-video_size", &format!("{width}x{height}"), "-framerate", &fps.arg(), "-i", "pipe:0"]);
        cmd.args(["-an", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-metadata:s:v:0", ENCODER_TAG, "-pix_fmt", "yuv420p"]);
        // BT.709 tags so players convert the YUV back with the matrix the encoder used.
        cmd.args(["-vf", "scale=out_color_matrix=bt709:out_range=tv", "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]);
        match codec {
            OutputCodec::H264 => {
                cmd.args(["-c:v", "libx264", "-preset", "medium", "-crf", "18", "-profile:v", "high", "-movflags", "+faststart", "-f", "mp4"]);
            }
            OutputCodec::Vp9 => {
                // WebM has no XMP box and the C2PA SDK does not sign Matroska: the AI label is
                // a Matroska tag (`DIGITAL_SOURCE_TYPE`, IPTC's digital source type URI).
                cmd.args(["-metadata", &format!("{WEBM_LABEL_TAG}={}", crate::imageio::AI_SOURCE_TYPE)]);
                cmd.args(["-c:v", "libvpx-vp9", "-crf", "30", "-b:v", "0", "-deadline", "good", "-cpu-used", "4", "-row-mt", "1", "-f", "webm"]);
            }
        }
        cmd.arg(format!("file:{}", out.display()));
        cmd.stdin(Stdio::piped()).stdout(Stdio::null());
        let mut run = Run::start(cmd, self.timeout)?;
        let stdin = run.child.stdin.take();
        Ok(Encoder { run: Some(run), stdin, width, height, frames: 0 })
    }

    /// Decodes the first video stream of `input` into RGB frames of `width`×`height`
    /// (scaled with Lanczos; the display rotation applied), at `fps` when given (frames
    /// dropped or repeated to that rate) or at the stream's own timing otherwise. Errors:
    /// [`VideoError::BadInput`] when the file is no MP4/WebM.
    pub fn frames(&self, input: &Path, width: u32, height: u32, fps: Option<Fps>) -> Result<FrameReader, VideoError> {
        self.decode(input, width, height, fps, None)
    }

    /// The first frame of `input` whose time is `secs` seconds or later, as RGB of
    /// `width`×`height` (scaled as [`VideoTools::frames`] does): ffmpeg seeks to the keyframe
    /// before it and decodes up to it, so the frame is exact. Errors:
    /// [`VideoError::BadInput`] for a file that is no MP4/WebM, a time that is not a number,
    /// or one past the last frame.
    pub fn frame_at(&self, input: &Path, secs: f64, width: u32, height: u32) -> Result<RgbImage, VideoError> {
        if !secs.is_finite() || secs < 0.0 {
            return Err(VideoError::BadInput(format!("no frame at {secs} s")));
        }
        let mut reader = self.decode(input, width, height, None, Some(secs))?;
        reader.next().unwrap_or_else(|| Err(VideoError::BadInput(format!("no frame at {secs} s"))))
    }

    fn decode(&self, input: &Path, width: u32, height: u32, fps: Option<Fps>, start: Option<f64>) -> Result<FrameReader, VideoError> {
        let input = &absolute(input)?;
        let mut head = [0u8; 16];
        let n = std::fs::File::open(input).and_then(|mut f| f.read(&mut head)).map_err(|e| VideoError::Failed(format!("reading {}: {e}", input.display())))?;
        let container = Container::sniff(&head[..n]).ok_or_else(|| VideoError::BadInput("This file is not an MP4 or WebM video.".into()))?;
        let dir = input.parent().unwrap_or(Path::new("/"));
        let mut cmd = self.command(&self.ffmpeg, dir);
        let threads = self.threads.to_string();
        cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-threads", &threads, "-filter_threads", &threads]);
        if let Some(s) = start {
            // Before the input: seek the demuxer, then decode up to the exact time.
            cmd.args(["-ss", &format!("{s:.3}")]);
        }
        cmd.args(Self::input_args(container, input));
        if start.is_some() {
            cmd.args(["-frames:v", "1"]);
        }
        let mut filter = String::new();
        if let Some(fps) = fps {
            filter.push_str(&format!("fps={},", fps.arg()));
        }
        filter.push_str(&format!("scale={width}:{height}:flags=lanczos,format=rgb24"));
        cmd.args(["-map", "0:v:0", "-an", "-sn", "-dn", "-vf", &filter, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
        let mut run = Run::start(cmd, self.timeout)?;
        let stdout = run.child.stdout.take();
        Ok(FrameReader { run: Some(run), stdout, width, height })
    }
}

/// Limits an uploaded clip must keep, and the size its cleaned copy is made at.
#[derive(Clone, Copy, Debug)]
pub struct ClipLimits {
    /// Bytes of the file as sent.
    pub max_bytes: u64,
    /// Seconds (the container's duration and what actually decodes).
    pub max_secs: f64,
    /// Longest side of the video as stored, pixels.
    pub max_side: u32,
    /// Frames per second (average).
    pub max_fps: f64,
    /// Longest side of the cleaned copy, pixels (scaled down, never up; even sizes).
    pub out_side: u32,
    /// Frame rate of the cleaned copy: the clip's own, at most this (constant: a variable
    /// frame rate phone clip is resampled to its average).
    pub out_max_fps: u32,
}

impl Default for ClipLimits {
    /// 50 MB, 10 s, 4096 px, 60 fps in; 1280 px and 30 fps out.
    fn default() -> Self {
        Self { max_bytes: 50 << 20, max_secs: 10.0, max_side: 4096, max_fps: 60.0, out_side: 1280, out_max_fps: 30 }
    }
}

/// An uploaded clip after [`VideoTools::clean_upload`]: what was sent, and the clean copy.
#[derive(Clone, Debug)]
pub struct CleanedClip {
    /// The file as sent, as ffprobe saw it.
    pub sent: Probe,
    /// The clean copy: pixels, constant frame rate, frames, seconds.
    pub width: u32,
    pub height: u32,
    pub fps: Fps,
    pub frames: u64,
    pub duration_secs: f64,
}

impl VideoTools {
    /// Checks an uploaded clip against `limits` and writes its clean copy to `out`: the first
    /// video stream only (audio, subtitles, data and attachments dropped), every container
    /// and stream tag and chapter dropped, the display rotation applied to the pixels,
    /// scaled to fit `out_side`, at a constant frame rate, cut at `max_secs` whatever the
    /// header claims, re-encoded as H.264 MP4 (`yuv420p`, `+faststart`).
    ///
    /// Errors ([`VideoError::BadInput`], each with a sentence for the member): not an MP4 or
    /// WebM, too large, no video stream, a codec outside [`ACCEPTED_CODECS`], too long, too
    /// large a picture or frame rate, or a file that does not decode to its end (truncated).
    pub fn clean_upload(&self, input: &Path, out: &Path, limits: &ClipLimits) -> Result<CleanedClip, VideoError> {
        let (input, out) = (&absolute(input)?, &absolute(out)?);
        let bad = |m: String| Err(VideoError::BadInput(m));
        let len = std::fs::metadata(input).map_err(|e| VideoError::Failed(e.to_string()))?.len();
        if len > limits.max_bytes {
            return bad(format!("This video is larger than {} MB.", limits.max_bytes >> 20));
        }
        let sent = self.probe(input)?;
        let Some(v) = sent.video.clone() else { return bad("This file has no video stream.".into()) };
        if !ACCEPTED_CODECS.contains(&v.codec.as_str()) {
            return bad(format!("Videos in {} are not accepted: use H.264, H.265, VP8, VP9 or AV1.", v.codec));
        }
        if !(sent.duration_secs > 0.0) {
            return bad("This video's length cannot be read.".into());
        }
        if sent.duration_secs > limits.max_secs + 0.05 {
            return bad(format!("This video is {:.1} seconds long; the most is {} seconds.", sent.duration_secs, limits.max_secs));
        }
        if v.width == 0 || v.height == 0 || v.width.max(v.height) > limits.max_side {
            return bad(format!("This video is {}x{} pixels; the most is {} on a side.", v.width, v.height, limits.max_side));
        }
        let fps = v.fps.ok_or_else(|| VideoError::BadInput("This video's frame rate cannot be read.".into()))?;
        if fps.value() > limits.max_fps + 0.01 {
            return bad(format!("This video has {:.0} frames per second; the most is {}.", fps.value(), limits.max_fps));
        }
        let out_fps = if fps.value() > limits.out_max_fps as f64 { Fps::whole(limits.out_max_fps) } else { fps };
        let side = limits.out_side;
        let dir = out.parent().unwrap_or(Path::new("/"));
        let mut cmd = self.command(&self.ffmpeg, dir);
        let threads = self.threads.to_string();
        cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-threads", &threads, "-filter_threads", &threads]);
        cmd.args(Self::input_args(sent.container, input));
        let filter = format!("fps={},scale=w='min({side},iw)':h='min({side},ih)':force_original_aspect_ratio=decrease:force_divisible_by=2:flags=lanczos", out_fps.arg());
        cmd.args(["-map", "0:v:0", "-an", "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1", "-t", &format!("{}", limits.max_secs)]);
        cmd.args(["-vf", &filter, "-fflags", "+bitexact", "-flags:v", "+bitexact", "-metadata:s:v:0", ENCODER_TAG, "-pix_fmt", "yuv420p"]);
        cmd.args(["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-movflags", "+faststart", "-f", "mp4"]);
        cmd.arg(format!("file:{}", out.display()));
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        let (_, err, ok) = Run::start(cmd, self.timeout)?.finish_reading()?;
        if !ok {
            return bad(format!("This video cannot be decoded ({}).", last_line(&err)));
        }
        let clean = self.probe(out).map_err(|e| VideoError::Failed(format!("the cleaned copy: {e}")))?;
        let cv = clean.video.ok_or_else(|| VideoError::BadInput("This video has no frames that decode.".into()))?;
        let frames = cv.frames.unwrap_or(0);
        if frames == 0 {
            return bad("This video has no frames that decode.".into());
        }
        // A file cut short (or a header that claims more than is there) decodes to less than
        // it says: refused rather than silently shortened.
        let expected = sent.duration_secs.min(limits.max_secs);
        if clean.duration_secs + 0.25 < expected * 0.9 {
            return bad(format!("This video stops after {:.1} of its {:.1} seconds: the file looks incomplete.", clean.duration_secs, sent.duration_secs));
        }
        Ok(CleanedClip { sent, width: cv.width, height: cv.height, fps: out_fps, frames, duration_secs: clean.duration_secs })
    }
}

/// The codec of an output file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputCodec {
    /// H.264 High profile in MP4, `yuv420p`, `+faststart` (plays everywhere).
    #[default]
    H264,
    /// VP9 in WebM, `yuv420p`.
    Vp9,
}

impl OutputCodec {
    /// The container it is written in.
    pub fn container(self) -> Container {
        match self {
            OutputCodec::H264 => Container::Mp4,
            OutputCodec::Vp9 => Container::WebM,
        }
    }
}

/// A running encoder: [`push`](Encoder::push) frames, then [`finish`](Encoder::finish).
/// Dropped unfinished, it kills the process (the partial file is the caller's to remove).
pub struct Encoder {
    run: Option<Run>,
    stdin: Option<ChildStdin>,
    width: u32,
    height: u32,
    frames: u64,
}

impl Encoder {
    /// Sends one frame. Errors: a frame of another size ([`VideoError::BadInput`]); the encoder
    /// died or timed out.
    pub fn push(&mut self, frame: &RgbImage) -> Result<(), VideoError> {
        if frame.dimensions() != (self.width, self.height) {
            return Err(VideoError::BadInput(format!("frame is {:?}, the encoder takes {}x{}", frame.dimensions(), self.width, self.height)));
        }
        let stdin = self.stdin.as_mut().ok_or_else(|| VideoError::Failed("encoder closed".into()))?;
        if let Err(e) = stdin.write_all(frame.as_raw()) {
            let run = self.run.take().expect("running");
            drop(self.stdin.take());
            return Err(run.failure(&format!("encoder stopped taking frames: {e}")));
        }
        self.frames += 1;
        Ok(())
    }

    /// Frames sent so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Closes the input and waits for the file. Errors: the encoder failed or timed out.
    pub fn finish(mut self) -> Result<(), VideoError> {
        drop(self.stdin.take());
        let run = self.run.take().expect("running");
        let (_, err, ok) = run.finish_reading()?;
        if ok {
            Ok(())
        } else {
            Err(VideoError::Failed(format!("encoding: {}", last_line(&err))))
        }
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Some(run) = self.run.take() {
            run.kill();
        }
    }
}

/// Decoded frames, in order, as an iterator. Dropping it early kills the decoder.
pub struct FrameReader {
    run: Option<Run>,
    stdout: Option<ChildStdout>,
    width: u32,
    height: u32,
}

impl Iterator for FrameReader {
    type Item = Result<RgbImage, VideoError>;

    fn next(&mut self) -> Option<Self::Item> {
        let stdout = self.stdout.as_mut()?;
        let mut buf = vec![0u8; self.width as usize * self.height as usize * 3];
        let mut filled = 0;
        while filled < buf.len() {
            match stdout.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Some(Err(VideoError::Failed(format!("reading frames: {e}")))),
            }
        }
        if filled == buf.len() {
            return Some(Ok(RgbImage::from_raw(self.width, self.height, buf).expect("sized")));
        }
        // End of stream: a partial frame means the decoder stopped mid-frame.
        self.stdout = None;
        let run = self.run.take()?;
        match run.finish_reading() {
            Ok((_, _, true)) if filled == 0 => None,
            Ok((_, err, _)) => Some(Err(VideoError::BadInput(format!("This video cannot be decoded ({}).", last_line(&err))))),
            Err(e) => Some(Err(e)),
        }
    }
}

impl Drop for FrameReader {
    fn drop(&mut self) {
        self.stdout = None;
        if let Some(run) = self.run.take() {
            run.kill();
        }
    }
}

/// One running tool with its watchdog.
struct Run {
    child: Child,
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
    watchdog: Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
    timed_out: Arc<AtomicBool>,
    timeout: Duration,
}

impl Run {
    fn start(mut cmd: Command, timeout: Duration) -> Result<Self, VideoError> {
        let mut child = cmd.spawn().map_err(|e| VideoError::Missing(format!("starting {:?}: {e}", cmd.get_program())))?;
        let pid = child.id() as libc::pid_t;
        // stderr is drained on its own thread (bounded) so a chatty tool never blocks on it.
        let stderr = child.stderr.take().map(|mut e| {
            std::thread::spawn(move || {
                let mut all = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = e.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if all.len() < 64 * 1024 {
                        all.extend_from_slice(&buf[..n]);
                    }
                }
                all
            })
        });
        let timed_out = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<()>();
        let flag = timed_out.clone();
        let dog = std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(timeout) {
                flag.store(true, Ordering::SeqCst);
                // SAFETY: kill(2) on our own child's process group.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
        });
        Ok(Self { child, stderr, watchdog: Some((tx, dog)), timed_out, timeout })
    }

    /// Reads stdout to its end (if piped), waits, returns `(stdout, stderr, success)`.
    fn finish_reading(mut self) -> Result<(Vec<u8>, Vec<u8>, bool), VideoError> {
        let mut out = Vec::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_end(&mut out);
        }
        let status = self.child.wait().map_err(|e| VideoError::Failed(e.to_string()))?;
        // The group may hold helpers of the tool's own; none outlives it.
        // SAFETY: kill(2) on our own child's process group.
        unsafe {
            libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL);
        }
        self.stop_watchdog();
        let err = self.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
        if self.timed_out.load(Ordering::SeqCst) {
            return Err(VideoError::Timeout(self.timeout));
        }
        Ok((out, err, status.success()))
    }

    fn failure(self, context: &str) -> VideoError {
        match self.finish_reading() {
            Err(e) => e,
            Ok((_, err, _)) => VideoError::Failed(format!("{context}: {}", last_line(&err))),
        }
    }

    fn kill(mut self) {
        // SAFETY: kill(2) on our own child's process group.
        unsafe {
            libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL);
        }
        let _ = self.child.wait();
        self.stop_watchdog();
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
    }

    fn stop_watchdog(&mut self) {
        if let Some((tx, dog)) = self.watchdog.take() {
            drop(tx);
            let _ = dog.join();
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if self.watchdog.is_some() {
            // SAFETY: kill(2) on our own child's process group.
            unsafe {
                libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = self.child.wait();
            self.stop_watchdog();
        }
    }
}

fn last_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message").trim();
    line.chars().take(300).collect()
}

fn parse_probe(container: Container, json: &[u8]) -> Result<Probe, VideoError> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        streams: Vec<Stream>,
        format: Option<Format>,
    }
    #[derive(Deserialize)]
    struct Format {
        duration: Option<String>,
        #[serde(default)]
        tags: serde_json::Map<String, serde_json::Value>,
    }
    #[derive(Deserialize)]
    struct Stream {
        codec_type: Option<String>,
        codec_name: Option<String>,
        width: Option<u32>,
        height: Option<u32>,
        pix_fmt: Option<String>,
        avg_frame_rate: Option<String>,
        r_frame_rate: Option<String>,
        nb_frames: Option<String>,
        duration: Option<String>,
        profile: Option<String>,
        #[serde(default)]
        tags: serde_json::Map<String, serde_json::Value>,
    }
    let tags = |m: serde_json::Map<String, serde_json::Value>| m.into_iter().map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect::<Vec<_>>();
    let doc: Doc = serde_json::from_slice(json).map_err(|e| VideoError::Failed(format!("ffprobe's answer: {e}")))?;
    let format = doc.format.ok_or_else(|| VideoError::BadInput("This video cannot be read (no container).".into()))?;
    let stream_types: Vec<String> = doc.streams.iter().map(|s| s.codec_type.clone().unwrap_or_default()).collect();
    let audio = stream_types.iter().any(|t| t == "audio");
    let mut video = None;
    let mut stream_duration = None;
    for s in doc.streams {
        if s.codec_type.as_deref() == Some("video") && video.is_none() {
            stream_duration = s.duration.as_deref().and_then(|d| d.parse::<f64>().ok());
            video = Some(VideoStream {
                codec: s.codec_name.unwrap_or_default(),
                width: s.width.unwrap_or(0),
                height: s.height.unwrap_or(0),
                pix_fmt: s.pix_fmt.unwrap_or_default(),
                fps: s.avg_frame_rate.as_deref().and_then(Fps::parse).or_else(|| s.r_frame_rate.as_deref().and_then(Fps::parse)),
                frames: s.nb_frames.as_deref().and_then(|n| n.parse().ok()),
                profile: s.profile,
                tags: tags(s.tags),
            });
        }
    }
    let duration_secs = format.duration.as_deref().and_then(|d| d.parse::<f64>().ok()).or(stream_duration).unwrap_or(0.0);
    Ok(Probe { container, duration_secs, video, audio, tags: tags(format.tags), stream_types })
}

/// The Matroska tag that labels a WebM clip as AI-made, its value
/// [`crate::imageio::AI_SOURCE_TYPE`] (IPTC Digital Source Type vocabulary).
pub const WEBM_LABEL_TAG: &str = "DIGITAL_SOURCE_TYPE";

/// The XMP box type of ISO BMFF files: a `uuid` box with this user type (Adobe XMP
/// Specification Part 3, "MPEG-4").
pub const XMP_UUID: [u8; 16] = [0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC];

/// Appends the AI label ([`crate::imageio::ai_xmp`]) to an MP4 as a top-level XMP `uuid` box
/// at the end of the file: after `mdat`, so no sample offset moves and `+faststart`'s `moov`
/// stays in front.
pub fn append_xmp_box(mp4: &mut Vec<u8>) {
    let xmp = crate::imageio::ai_xmp();
    let size = (8 + 16 + xmp.len()) as u32;
    mp4.extend_from_slice(&size.to_be_bytes());
    mp4.extend_from_slice(b"uuid");
    mp4.extend_from_slice(&XMP_UUID);
    mp4.extend_from_slice(xmp.as_bytes());
}

/// The top-level boxes of an ISO BMFF file, `(type, offset, size)`, in order. Stops at the
/// first box whose size does not fit the file.
pub fn top_level_boxes(file: &[u8]) -> Vec<([u8; 4], usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 8 <= file.len() {
        let mut size = u32::from_be_bytes(file[at..at + 4].try_into().expect("4 bytes")) as usize;
        let kind: [u8; 4] = file[at + 4..at + 8].try_into().expect("4 bytes");
        if size == 1 && at + 16 <= file.len() {
            size = u64::from_be_bytes(file[at + 8..at + 16].try_into().expect("8 bytes")) as usize;
        } else if size == 0 {
            size = file.len() - at;
        }
        if size < 8 || at + size > file.len() {
            break;
        }
        out.push((kind, at, size));
        at += size;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_told_by_their_magic_bytes_only() {
        assert_eq!(Container::sniff(b"\0\0\0\x18ftypisom\0\0\0\0"), Some(Container::Mp4));
        assert_eq!(Container::sniff(&[0x1A, 0x45, 0xDF, 0xA3, 1, 2]), Some(Container::WebM));
        assert_eq!(Container::sniff(b"PK\x03\x04aaaaaaaaaaaa"), None);
        assert_eq!(Container::sniff(b"#EXTM3U\n#EXT-X-VERSION:3"), None);
        assert_eq!(Container::sniff(b"<html><body>hi</body>"), None);
    }

    #[test]
    fn frame_rates_parse_as_fractions() {
        assert_eq!(Fps::parse("30000/1001").map(|f| (f.value() * 1000.0).round()), Some(29970.0));
        assert_eq!(Fps::parse("0/0"), None);
        assert_eq!(Fps::parse("x"), None);
    }

    #[test]
    fn the_xmp_box_is_a_whole_box_at_the_end() {
        let mut f = vec![0, 0, 0, 8, b'f', b't', b'y', b'p', 0, 0, 0, 8, b'm', b'd', b'a', b't'];
        append_xmp_box(&mut f);
        let boxes = top_level_boxes(&f);
        assert_eq!(boxes.iter().map(|b| &b.0).collect::<Vec<_>>(), [b"ftyp", b"mdat", b"uuid"]);
        let (_, at, size) = boxes[2];
        assert_eq!(at + size, f.len());
        assert_eq!(&f[at + 8..at + 24], &XMP_UUID);
    }
}
