//! Finding the model files and making sure each is the pinned file before it is loaded.
//!
//! The manifest compiled into the library names every file with its size and sha256. A file is
//! checked when it is first loaded by an engine: size, then the format's header, then the hash,
//! so that a truncated download, a file of the wrong kind and a single flipped byte are each a
//! clear error rather than a crash deep inside a model loader. Hashing the base model takes
//! about half a second, so a file that passed is remembered (with its size and modification
//! time) in the data folder, and later engine starts skip the hash until the file changes.

use crate::error::{Error, Result};
use copilot_models::{check_output, FileState, Manifest, Output};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The state of one model file, as the apps and `copilot models` show it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelState {
    /// Present with the pinned size and hash.
    Ok,
    /// Not in the models folder.
    Missing,
    /// Present, but not the pinned bytes.
    Mismatch,
}

/// One file of one model of the manifest.
#[derive(Debug, Clone, uniffi::Record, serde::Serialize)]
pub struct ModelStatus {
    /// The model's name in the manifest, e.g. `whisper-base`.
    pub model: String,
    /// What the model does: `asr`, `encoder`, `vad` or `lm`.
    pub role: String,
    /// The weight type (`f16`, `q8_0`, `q4_0`), or null for a file copied as it is.
    pub variant: Option<String>,
    /// Where the file is (or should be).
    pub path: String,
    /// Its size in bytes when present.
    pub size_bytes: Option<u64>,
    pub state: ModelState,
    /// Why a file is a mismatch.
    pub reason: Option<String>,
    /// Optional models are fetched only on request.
    pub optional: bool,
}

/// The models folder together with the manifest that pins its files.
#[derive(Debug)]
pub(crate) struct ModelDir {
    dir: PathBuf,
    manifest: Manifest,
    checked: CheckedFiles,
}

/// The first bytes a file of each format starts with.
fn expected_magic(file: &str) -> Option<&'static [u8]> {
    if file.ends_with(".gguf") {
        Some(b"GGUF")
    } else if file.starts_with("whisper-") && file.ends_with(".bin") {
        Some(b"lmgg")
    } else {
        None
    }
}

impl ModelDir {
    /// `data_dir` keeps the record of files already hashed, so that a restart does not hash
    /// hundreds of megabytes again.
    pub(crate) fn new(dir: PathBuf, data_dir: &Path) -> Result<ModelDir> {
        Ok(ModelDir {
            dir,
            manifest: Manifest::embedded()?,
            checked: CheckedFiles::open(data_dir.join(CHECKED_FILE)),
        })
    }

    /// The path a file of the models folder would have, checked only to exist (for companion
    /// files such as a tokenizer, whose pinned hash `models/fetch` checked).
    pub(crate) fn companion(&self, name: &str, file: &str) -> Result<PathBuf> {
        let path = self.dir.join(file);
        if !path.is_file() {
            return Err(Error::ModelMissing {
                name: name.to_string(),
                path,
            });
        }
        Ok(path)
    }

    /// Every output file of the manifest with its state; this hashes every present file.
    pub(crate) fn status(&self) -> Vec<ModelStatus> {
        let mut all = Vec::new();
        for model in &self.manifest.models {
            for output in &model.outputs {
                let path = self.dir.join(&output.file);
                let (state, reason) = match check_output(&self.dir, output) {
                    FileState::Ok => (ModelState::Ok, None),
                    FileState::Missing => (ModelState::Missing, None),
                    FileState::Mismatch(r) => (ModelState::Mismatch, Some(r)),
                };
                all.push(ModelStatus {
                    model: model.name.clone(),
                    role: model.role.clone(),
                    variant: output.variant.clone(),
                    size_bytes: std::fs::metadata(&path).ok().map(|m| m.len()),
                    path: path.display().to_string(),
                    state,
                    reason,
                    optional: model.optional,
                });
            }
        }
        all
    }

    /// The path of a model's file of the given variant, checked to be the pinned file. An empty
    /// variant names the one file of a model that has no variants (such as Silero VAD).
    pub(crate) fn verified(&self, name: &str, variant: &str) -> Result<PathBuf> {
        let model = self.manifest.model(name)?;
        let output = match variant {
            "" => model.outputs.iter().find(|o| o.variant.is_none()),
            _ => model.variant(variant),
        };
        let output = output.ok_or_else(|| {
            Error::InvalidInput(format!("the model '{name}' has no '{variant}' variant"))
        })?;
        let path = self.dir.join(&output.file);
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(_) => {
                return Err(Error::ModelMissing {
                    name: name.to_string(),
                    path,
                })
            }
        };
        let mismatch = |reason: String| Error::ModelMismatch {
            path: path.clone(),
            reason,
        };
        if meta.len() != output.size {
            return Err(mismatch(format!(
                "size is {} bytes, the manifest pins {}",
                meta.len(),
                output.size
            )));
        }
        check_header(&path, output)?;
        let seen = Seen::of(&meta, output);
        if self.checked.contains(&output.file, &seen) {
            return Ok(path);
        }
        match check_output(&self.dir, output) {
            FileState::Ok => {
                self.checked.insert(&output.file, seen);
                Ok(path)
            }
            FileState::Missing => Err(Error::ModelMissing {
                name: name.to_string(),
                path,
            }),
            FileState::Mismatch(reason) => Err(mismatch(reason)),
        }
    }
}

/// Checks that a present file starts like its format, before the slower hash.
fn check_header(path: &Path, output: &Output) -> Result<()> {
    let Some(magic) = expected_magic(&output.file) else {
        return Ok(());
    };
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(()); // unreadable: the full check reports it
    };
    let mut head = vec![0u8; magic.len()];
    if file.read_exact(&mut head).is_err() || head != magic {
        return Err(Error::ModelMismatch {
            path: path.to_path_buf(),
            reason: "it does not start with the header of its format".into(),
        });
    }
    Ok(())
}

/// The name of the record of hashed files in the data folder.
const CHECKED_FILE: &str = "model-checks.json";

/// What a model file looked like when its whole hash was last found to be the pinned one.
/// Any write to the file changes its modification time, so a file edited since (a flipped byte,
/// a half-finished copy) is hashed again; a change that keeps size and time (silent disk
/// corruption) is only caught by `copilot models`, which always hashes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Seen {
    size: u64,
    modified_ns: u128,
    sha256: String,
}

impl Seen {
    fn of(meta: &std::fs::Metadata, output: &Output) -> Seen {
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Seen {
            size: meta.len(),
            modified_ns,
            sha256: output.sha256.clone(),
        }
    }
}

/// The record of hashed files, kept as JSON in the data folder. It is only an optimisation:
/// an unreadable record is treated as empty and a failed save only costs a hash next time.
#[derive(Debug)]
struct CheckedFiles {
    path: PathBuf,
    seen: Mutex<BTreeMap<String, Seen>>,
}

impl CheckedFiles {
    fn open(path: PathBuf) -> CheckedFiles {
        let seen = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        CheckedFiles {
            path,
            seen: Mutex::new(seen),
        }
    }

    fn contains(&self, file: &str, seen: &Seen) -> bool {
        let map = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.modified_ns != 0 && map.get(file) == Some(seen)
    }

    fn insert(&self, file: &str, seen: Seen) {
        let mut map = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(file.to_string(), seen);
        if let Err(err) = self.save(&map) {
            tracing::warn!(%err, path = %self.path.display(), "could not save the model check record");
        }
    }

    fn save(&self, map: &BTreeMap<String, Seen>) -> std::io::Result<()> {
        let tmp = self.path.with_extension("json.partial");
        std::fs::write(&tmp, serde_json::to_vec_pretty(map)?)?;
        std::fs::rename(&tmp, &self.path)
    }
}
