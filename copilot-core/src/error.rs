//! Errors: a rich internal enum, and the small flat error the bindings see.
//!
//! Every fallible function inside the core returns [`Error`]. At the exported surface it becomes
//! a [`CopilotError`] in one place ([`From<Error> for CopilotError`]), which also decides how each
//! kind is logged. Messages are one sentence a person can act on; they never carry transcripts or
//! customer data.

use std::path::PathBuf;

/// What went wrong inside the core.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("the model '{name}' is missing at {path}; run models/fetch")]
    ModelMissing { name: String, path: PathBuf },
    #[error("the model file {path} is not the pinned file: {reason}")]
    ModelMismatch { path: PathBuf, reason: String },
    #[error("the model file {path} could not be loaded: {reason}")]
    ModelLoad { path: PathBuf, reason: String },
    #[error(transparent)]
    Manifest(#[from] copilot_models::ManifestError),
    #[error("the audio {path} cannot be read: {reason}")]
    Audio { path: PathBuf, reason: String },
    #[error("{0}")]
    InvalidInput(String),
    #[error("transcription failed: {0}")]
    Asr(String),
    #[error("the lexicon is refused at line {line}: {reason}")]
    Lexicon { line: usize, reason: String },
    #[error("the encoder failed: {0}")]
    Encoder(String),
    #[error("could not use the folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// The error every exported function returns. Each variant carries one sentence saying what
/// happened and, where there is one, what to do about it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum CopilotError {
    /// A model file is missing, is not the pinned file, or could not be loaded.
    #[error("{reason}")]
    Model { reason: String },
    /// Audio could not be read or decoded.
    #[error("{reason}")]
    Audio { reason: String },
    /// An argument or an input document was not acceptable.
    #[error("{reason}")]
    InvalidInput { reason: String },
    /// The data folder or database could not be used.
    #[error("{reason}")]
    Storage { reason: String },
    /// A failure inside the core that the caller cannot fix; please report it.
    #[error("{reason}")]
    Internal { reason: String },
}

impl From<Error> for CopilotError {
    fn from(err: Error) -> Self {
        let reason = err.to_string();
        match err {
            Error::ModelMissing { .. } | Error::ModelMismatch { .. } | Error::ModelLoad { .. } => {
                tracing::warn!(%reason, "model unavailable");
                CopilotError::Model { reason }
            }
            Error::Manifest(_) => {
                tracing::error!(%reason, "model manifest");
                CopilotError::Internal { reason }
            }
            Error::Audio { .. } => {
                tracing::warn!("audio refused");
                CopilotError::Audio { reason }
            }
            Error::InvalidInput(_) => CopilotError::InvalidInput { reason },
            Error::Asr(_) => {
                tracing::error!(%reason, "transcription");
                CopilotError::Internal { reason }
            }
            Error::Lexicon { .. } => {
                tracing::warn!(%reason, "lexicon refused");
                CopilotError::InvalidInput { reason }
            }
            Error::Encoder(_) => {
                tracing::error!(%reason, "encoder");
                CopilotError::Internal { reason }
            }
            Error::Folder { .. } => {
                tracing::warn!(%reason, "folder");
                CopilotError::Storage { reason }
            }
        }
    }
}
