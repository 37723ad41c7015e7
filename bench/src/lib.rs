//! Shared pieces of the benchmarks: word error counting and the fixture paths.
//!
//! Benchmarks live in this crate, not in `cargo test`, so the tests stay fast and nothing fails
//! because a shared machine was slow. Each prints its figures next to a peer's on the same input.

pub mod customers;
pub mod wer;

use std::path::{Path, PathBuf};

/// The root of the checkout.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The models folder: `COPILOT_MODELS` or `models/` of the checkout.
pub fn models_dir() -> PathBuf {
    std::env::var_os("COPILOT_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("models"))
}
