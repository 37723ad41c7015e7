//! The example embeddings of a lexicon, kept in the data folder.
//!
//! Embedding every example of a lexicon takes seconds on a phone core, and the same lexicon is
//! used across many app starts, so the vectors are written once per lexicon content and encoder
//! and read back afterwards. A missing, short or unreadable file only means recomputing: the
//! cache never decides a label.

use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"CPX1";

/// A stable 64-bit FNV-1a digest (std's hasher may change between Rust releases).
pub(crate) fn digest(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn path(dir: &Path, key: u64) -> PathBuf {
    dir.join(format!("lexicon-examples-{key:016x}.bin"))
}

/// The cached vectors for `key`, if a complete file of `count` vectors is there.
pub(crate) fn read(dir: &Path, key: u64, count: usize) -> Option<Vec<Vec<f32>>> {
    let bytes = std::fs::read(path(dir, key)).ok()?;
    let (head, body) = bytes.split_at_checked(12)?;
    let (magic, dims) = head.split_at(4);
    let stored = u32::from_le_bytes(dims.get(..4)?.try_into().ok()?) as usize;
    let dim = u32::from_le_bytes(dims.get(4..8)?.try_into().ok()?) as usize;
    if magic != MAGIC || stored != count || dim == 0 || body.len() != count * dim * 4 {
        return None;
    }
    let floats: Vec<f32> = body
        .chunks_exact(4)
        .filter_map(|c| <[u8; 4]>::try_from(c).ok())
        .map(f32::from_le_bytes)
        .collect();
    Some(floats.chunks_exact(dim).map(<[f32]>::to_vec).collect())
}

/// Writes the vectors for `key` (through a temporary file, so a reader never sees half).
pub(crate) fn write(dir: &Path, key: u64, vectors: &[Vec<f32>]) -> std::io::Result<()> {
    let dim = vectors.first().map_or(0, Vec::len);
    std::fs::create_dir_all(dir)?;
    let target = path(dir, key);
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let temporary = target.with_extension(format!("{}-{unique}.tmp", std::process::id()));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&temporary)?);
    file.write_all(MAGIC)?;
    file.write_all(&(vectors.len() as u32).to_le_bytes())?;
    file.write_all(&(dim as u32).to_le_bytes())?;
    for value in vectors.iter().flatten() {
        file.write_all(&value.to_le_bytes())?;
    }
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(temporary, target)
}
