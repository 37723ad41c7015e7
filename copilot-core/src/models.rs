//! Finding the model files and making sure each is the pinned file before it is loaded.
//!
//! The manifest compiled into the library names every file with its size and sha256. A file is
//! checked when it is first loaded by an engine: size, then the format's header, then the hash,
//! so that a truncated download, a file of the wrong kind and a single flipped byte are each a
//! clear error rather than a crash deep inside a model loader.

use crate::error::{Error, Result};
use copilot_models::{check_output, FileState, Manifest, Output};
use std::io::Read;
use std::path::{Path, PathBuf};

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
#[derive(Debug, Clone)]
pub(crate) struct ModelDir {
    dir: PathBuf,
    manifest: Manifest,
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
    pub(crate) fn new(dir: PathBuf) -> Result<ModelDir> {
        Ok(ModelDir {
            dir,
            manifest: Manifest::embedded()?,
        })
    }

    /// Every output file of the manifest with its state; this hashes every present file.
    pub(crate) fn status(&self) -> Vec<ModelStatus> {
        let mut all = Vec::new();
        for model in &self.manifest.models {
            for output in &model.outputs {
                let path = self.dir.join(&output.file);
                let state = check_output(&self.dir, output);
                let (state, reason) = match state {
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

    /// The path of a model's file of the given variant, checked to be the pinned file.
    pub(crate) fn verified(&self, name: &str, variant: &str) -> Result<PathBuf> {
        let model = self.manifest.model(name)?;
        let output = model.variant(variant).ok_or_else(|| {
            Error::InvalidInput(format!("the model '{name}' has no '{variant}' variant"))
        })?;
        let path = self.dir.join(&output.file);
        check_header(&path, output)?;
        match check_output(&self.dir, output) {
            FileState::Ok => Ok(path),
            FileState::Missing => Err(Error::ModelMissing {
                name: name.to_string(),
                path,
            }),
            FileState::Mismatch(reason) => Err(Error::ModelMismatch { path, reason }),
        }
    }
}

/// Checks that a present file starts like its format, before the slower hash.
fn check_header(path: &Path, output: &Output) -> Result<()> {
    let Some(magic) = expected_magic(&output.file) else {
        return Ok(());
    };
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(()); // missing or unreadable: the full check reports it
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
