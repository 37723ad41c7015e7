//! Turning the packaged weights into the formats the core loads.
//!
//! Each converter reads the original file whole from the package cache and writes its output
//! through [`fetch::write_atomically`], so a failed or interrupted conversion leaves nothing
//! behind under the final name.

pub mod ct2;
pub mod e5;
pub mod fetch;
pub mod gguf;
pub mod whisper;
