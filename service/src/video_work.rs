//! How this process runs ffmpeg: the thread cap, the wall-clock limit of each run, and the
//! scratch folder every clip's temporary files live in.
//!
//! Temporary files (an uploaded clip being cleaned, the member's clip for video→video, a
//! provider's file, an encoder's output) go to `<scratch>/<pid>/`, one folder per process
//! (`DARKROOM_SCRATCH_DIR`, default `<data dir>/scratch`; it must be on this machine, not
//! shared with others). They are removed when their holder drops them; what a killed process
//! left behind is removed by [`VideoWork::sweep`] when a process starts: a folder whose
//! process no longer runs. A killed process's ffmpeg children end on their own: an encoder
//! reads end-of-file on its input pipe, a decoder's output pipe breaks.

use std::path::PathBuf;
use std::time::Duration;

use darkroom_engine::video::{VideoError, VideoTools};

use crate::config::Config;

/// The video settings a run needs (see the module docs).
#[derive(Clone, Debug)]
pub struct VideoWork {
    /// Threads each ffmpeg run may use (`Config::video_threads`).
    pub threads: u32,
    /// Wall-clock limit of each ffmpeg run (`DARKROOM_VIDEO_TIMEOUT_SECS`).
    pub timeout: Duration,
    /// The scratch folder shared by this machine's processes; each uses `<scratch>/<pid>`.
    pub scratch: PathBuf,
}

impl VideoWork {
    /// From the configuration.
    pub fn from_config(config: &Config) -> Self {
        Self { threads: config.video_threads(), timeout: Duration::from_secs(config.video_timeout_secs), scratch: config.scratch_dir.clone() }
    }

    /// Debian's ffmpeg and ffprobe with these limits. Errors: [`VideoError::Missing`].
    pub fn tools(&self) -> Result<VideoTools, VideoError> {
        VideoTools::find(self.threads.max(1), self.timeout)
    }

    /// This process's own scratch folder, made if missing.
    fn own(&self) -> std::io::Result<PathBuf> {
        let dir = self.scratch.join(std::process::id().to_string());
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// A private temporary folder (mode 0700) named `<prefix>…`, removed when dropped.
    /// Errors: the folder cannot be made.
    pub fn dir(&self, prefix: &str) -> std::io::Result<tempfile::TempDir> {
        tempfile::Builder::new().prefix(prefix).tempdir_in(self.own()?)
    }

    /// A private temporary file (mode 0600) named `<prefix>…<suffix>`, removed when dropped.
    /// Errors: the file cannot be made.
    pub fn file(&self, prefix: &str, suffix: &str) -> std::io::Result<tempfile::NamedTempFile> {
        tempfile::Builder::new().prefix(prefix).suffix(suffix).tempfile_in(self.own()?)
    }

    /// Removes the scratch folders of processes that no longer run (a `kill -9`, a crash, a
    /// power cut): every `<scratch>/<pid>` whose pid is not alive on this machine. Returns how
    /// many it removed. Errors: the scratch folder cannot be read (a missing one is fine).
    pub fn sweep(&self) -> std::io::Result<usize> {
        let entries = match std::fs::read_dir(&self.scratch) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<libc::pid_t>().ok()) else { continue };
            if pid == std::process::id() as libc::pid_t || alive(pid) {
                continue;
            }
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(path = %entry.path().display(), error = %e, "removing a dead process's scratch folder failed"),
            }
        }
        Ok(removed)
    }
}

/// Whether a process with this pid runs on this machine (`kill(pid, 0)`, POSIX: `ESRCH`
/// means none; `EPERM` means one runs that is not ours).
fn alive(pid: libc::pid_t) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_removes_only_dead_processes_folders() {
        let root = tempfile::tempdir().unwrap();
        let work = VideoWork { threads: 1, timeout: Duration::from_secs(1), scratch: root.path().to_path_buf() };
        let mine = work.dir("clip-").unwrap();
        std::fs::write(mine.path().join("out.mp4"), b"x").unwrap();
        // A child that has exited and been reaped: its pid no longer runs.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        std::fs::create_dir_all(root.path().join(dead.to_string()).join("clip-x")).unwrap();
        std::fs::create_dir_all(root.path().join("1")).unwrap(); // init runs
        std::fs::create_dir_all(root.path().join("notes")).unwrap(); // not a pid: left alone
        assert_eq!(work.sweep().unwrap(), 1);
        assert!(!root.path().join(dead.to_string()).exists());
        assert!(root.path().join("1").exists() && root.path().join("notes").exists());
        assert!(mine.path().join("out.mp4").exists(), "this process's own files stay");
    }
}
