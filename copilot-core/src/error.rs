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
    #[error("voice activity detection failed: {0}")]
    Vad(String),
    #[error("the lexicon is refused at line {line}: {reason}")]
    Lexicon { line: usize, reason: String },
    #[error("the playbook is refused at line {line}: {reason}")]
    Playbook { line: usize, reason: String },
    #[error("the encoder failed: {0}")]
    Encoder(String),
    #[error("could not use the folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database {path} cannot be opened: {reason}")]
    DatabaseOpen { path: PathBuf, reason: String },
    #[error(
        "the database {path} has schema version {found}, newer than the {supported} this \
         library knows; update the app"
    )]
    DatabaseNewer {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "the database {path} is not a usable SQLite file ({reason}); recover it to move it \
         aside and start an empty one"
    )]
    DatabaseCorrupt { path: PathBuf, reason: String },
    #[error("the snapshot is invalid at {position}: {reason}; nothing was imported")]
    Snapshot { position: String, reason: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Internal(String),
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
    /// The database file is damaged or not SQLite; nothing was changed. The caller may recover
    /// it: the file is moved aside, never deleted, and an empty database takes its place.
    #[error("{reason}")]
    CorruptDatabase { reason: String },
    /// The thing asked for (a customer, a record) does not exist.
    #[error("{reason}")]
    NotFound { reason: String },
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
            Error::Asr(_) | Error::Vad(_) => {
                tracing::error!(%reason, "transcription");
                CopilotError::Internal { reason }
            }
            Error::Lexicon { .. } => {
                tracing::warn!(%reason, "lexicon refused");
                CopilotError::InvalidInput { reason }
            }
            Error::Playbook { .. } => {
                tracing::warn!(%reason, "playbook refused");
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
            Error::Sqlite(_) | Error::DatabaseOpen { .. } | Error::DatabaseNewer { .. } => {
                tracing::warn!(%reason, "database");
                CopilotError::Storage { reason }
            }
            Error::DatabaseCorrupt { .. } => {
                tracing::error!(%reason, "database corrupt");
                CopilotError::CorruptDatabase { reason }
            }
            Error::Snapshot { .. } => {
                // The reason may quote a field of the file: customer data stays at trace.
                tracing::warn!("snapshot refused");
                tracing::trace!(%reason, "snapshot refused");
                CopilotError::InvalidInput { reason }
            }
            Error::NotFound(_) => CopilotError::NotFound { reason },
            Error::Internal(_) => {
                tracing::error!(%reason, "internal");
                CopilotError::Internal { reason }
            }
        }
    }
}
