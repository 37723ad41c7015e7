//! What the end-to-end tests share: the checkout's root, the fetched models folder, and an
//! engine over it with a data folder of the test's own.

#![allow(dead_code)] // each test file uses its own part of this module

use copilot_core::{Engine, EngineConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The root of the checkout.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The fetched models: `COPILOT_MODELS`, else `models/` of the checkout.
pub fn models_dir() -> PathBuf {
    std::env::var_os("COPILOT_MODELS").map_or_else(|| root().join("models"), PathBuf::from)
}

/// An engine over the fetched models that keeps its data in `data`.
pub fn engine(data: &Path) -> Arc<Engine> {
    Engine::new(EngineConfig {
        models_dir: models_dir().display().to_string(),
        data_dir: data.display().to_string(),
    })
    .unwrap()
}

/// A data folder shared by the tests that classify, so the lexicon's example embeddings are
/// computed once for the whole run.
pub fn shared_data() -> PathBuf {
    root().join("target/tmp/classify-test-data")
}
