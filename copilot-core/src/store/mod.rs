//! The customer history cache and the offline outbox, in one SQLite file.
//!
//! WAL mode lets readers work while the writer commits, so a card never waits for an import or a
//! note. All writes go through one connection behind a mutex: SQLite allows one writer at a time
//! anyway, and queueing writers on a mutex instead of on the file lock means no thread ever sees
//! `SQLITE_BUSY`. Readers come from a small pool of read-only connections; each read runs in one
//! transaction, so it sees an import entirely or not at all. `busy_timeout` covers the rare
//! cases where another process (the desktop command beside the app) holds the file.
//!
//! A file that is not SQLite or is cut short is refused and left where it is; the caller may
//! then ask for it to be moved aside (never deleted) and an empty database started in its place.

mod card;
pub(crate) mod coach;
pub(crate) mod date;
mod import;
pub(crate) mod journal;
mod notes;
pub(crate) mod outbox;
mod schema;

#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod stress_tests;
#[cfg(test)]
pub(crate) mod tests;

pub use card::{
    CompetitorContact, CustomerCard, CustomerSummary, OpenCommitment, OpenObjection, PurchaseCycle,
    Trend,
};
pub use import::ImportSummary;
pub use outbox::OutboxRecord;

// Only the tests write notes today: the note builder, still to come, is their caller.
#[allow(unused_imports)]
pub(crate) use notes::{
    competitors, customer_names, products, CommitmentRecord, CustomerNames, FeedbackRecord,
    NoteRecord, ObjectionRecord, ProductNames,
};

use crate::error::{Error, Result};
use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The database file's name inside the data folder.
pub(crate) const DB_FILE: &str = "copilot.db";

/// How long a connection waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle read connections kept for reuse; more are opened when many threads read at once.
const IDLE_READERS: usize = 4;

/// The open database: one writer, a pool of readers.
pub(crate) struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl Store {
    /// Opens (creating if absent) and migrates the database at `path`.
    pub(crate) fn open(path: &Path) -> Result<Store> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|source| Error::Folder {
                path: folder.to_path_buf(),
                source,
            })?;
        }
        check_header(path)?;
        let mut writer = open_writer(path).map_err(|e| classify(e, path))?;
        schema::migrate(&mut writer, path).map_err(|e| classify(e, path))?;
        tracing::debug!(path = %path.display(), "database opened");
        Ok(Store {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// Runs `work` in one immediate write transaction and commits it; any error rolls it back.
    pub(crate) fn write<T>(&self, work: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = work(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Copies the WAL into the database file and shrinks the WAL to nothing, so a large import
    /// does not leave its size twice on the phone's storage. Best effort: a reader still on an
    /// old snapshot stops it early, and the next automatic checkpoint finishes the job.
    pub(crate) fn checkpoint(&self) {
        let conn = lock(&self.writer);
        if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
            tracing::debug!(%err, "checkpoint");
        }
    }

    /// Runs `work` on a read connection inside one read transaction (one consistent snapshot).
    pub(crate) fn read<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = match lock(&self.readers).pop() {
            Some(conn) => conn,
            None => open_reader(&self.path)?,
        };
        let out = read_snapshot(&conn, work);
        let mut idle = lock(&self.readers);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        out
    }

    /// Lets tests fill the database: SQLite reports "full" past this many pages.
    #[cfg(test)]
    pub(crate) fn limit_pages(&self, pages: u32) -> Result<()> {
        lock(&self.writer).pragma_update(None, "max_page_count", pages)?;
        Ok(())
    }
}

fn read_snapshot<T>(conn: &Connection, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    let tx = conn.unchecked_transaction()?;
    let out = work(&tx)?;
    tx.finish()?;
    Ok(out)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn open_writer(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Checked before anything below can rewrite the header of a file this library must not touch.
    let found = schema::version(&conn)?;
    if found > schema::LATEST {
        return Err(Error::DatabaseNewer {
            path: path.to_path_buf(),
            found,
            supported: schema::LATEST,
        });
    }
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::DatabaseOpen {
            path: path.to_path_buf(),
            reason: format!("the file stays in journal mode {mode}, not WAL"),
        });
    }
    // FULL makes a commit survive power loss, not only a killed process; writes are few.
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = 2;",
    )?;
    Ok(conn)
}

fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch("PRAGMA temp_store = 2;")?;
    Ok(conn)
}

/// The 16 bytes every SQLite 3 file starts with.
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Refuses a file that is not SQLite or is shorter than its header says, before SQLite sees it.
fn check_header(path: &Path) -> Result<()> {
    let corrupt = |reason: &str| Error::DatabaseCorrupt {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(Error::Folder {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Ok(());
    }
    let mut header = [0u8; 100];
    if len < 100 || file.read_exact(&mut header).is_err() {
        return Err(corrupt("the file is shorter than a SQLite header"));
    }
    if &header[..16] != MAGIC {
        return Err(corrupt("the file does not start with the SQLite header"));
    }
    // A checkpoint cut short by a crash may leave the file short of its header's size while the
    // WAL still holds the pages; SQLite finishes it on open, so only a file without one is judged.
    let wal_len = std::fs::metadata(sidecar(path, "-wal")).map_or(0, |m| m.len());
    if let Some(expected) = size_in_header(&header).filter(|_| wal_len == 0) {
        if len < expected {
            return Err(corrupt(
                "the file is shorter than its header says; it was cut off",
            ));
        }
    }
    Ok(())
}

/// Page size times page count, when the header's count is marked valid.
fn size_in_header(header: &[u8; 100]) -> Option<u64> {
    let be32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    let valid = be32(24) == be32(92);
    valid.then(|| page_size * u64::from(be32(28)))
}

/// Turns SQLite's "not a database" and "corrupt" codes into [`Error::DatabaseCorrupt`], and a
/// file that cannot be opened or written into [`Error::DatabaseOpen`].
fn classify(err: Error, path: &Path) -> Error {
    let Error::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) = &err else {
        return err;
    };
    let reason = err.to_string();
    match failure.code {
        ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => Error::DatabaseCorrupt {
            path: path.to_path_buf(),
            reason,
        },
        ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::PermissionDenied => {
            Error::DatabaseOpen {
                path: path.to_path_buf(),
                reason,
            }
        }
        _ => err,
    }
}

/// The engine's handle on its database: opened on first use, so an engine that only
/// transcribes never touches the file, and re-opened fresh only when the caller says so.
pub(crate) struct Slot {
    path: PathBuf,
    open: Mutex<Option<Arc<Store>>>,
}

impl Slot {
    /// A slot for the database in `data_dir`; nothing is opened yet.
    pub(crate) fn new(data_dir: &Path) -> Slot {
        Slot {
            path: data_dir.join(DB_FILE),
            open: Mutex::new(None),
        }
    }

    /// The open store, opening it now if needed.
    pub(crate) fn get(&self) -> Result<Arc<Store>> {
        let mut open = lock(&self.open);
        if let Some(store) = open.as_ref() {
            return Ok(store.clone());
        }
        let store = Arc::new(Store::open(&self.path)?);
        *open = Some(store.clone());
        Ok(store)
    }

    /// Opens the store; if the file is corrupt, moves it (and its WAL) aside and starts an
    /// empty one. Returns where the damaged file went, or `None` when it was healthy.
    pub(crate) fn recover(&self) -> Result<Option<PathBuf>> {
        let mut open = lock(&self.open);
        if open.is_some() {
            return Ok(None);
        }
        let moved = match Store::open(&self.path) {
            Ok(store) => {
                *open = Some(Arc::new(store));
                return Ok(None);
            }
            Err(Error::DatabaseCorrupt { .. }) => move_aside(&self.path)?,
            Err(other) => return Err(other),
        };
        *open = Some(Arc::new(Store::open(&self.path)?));
        Ok(Some(moved))
    }
}

/// Renames `copilot.db` to `copilot.db.corrupt-<unix seconds>`, with its `-wal` and `-shm`.
fn move_aside(path: &Path) -> Result<PathBuf> {
    let suffix = format!("corrupt-{}", date::unix_seconds());
    let target = path.with_extension(format!("db.{suffix}"));
    for (from, to) in [
        (path.to_path_buf(), target.clone()),
        (sidecar(path, "-wal"), sidecar(&target, "-wal")),
        (sidecar(path, "-shm"), sidecar(&target, "-shm")),
    ] {
        match std::fs::rename(&from, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Folder { path: from, source }),
        }
    }
    tracing::warn!(moved_to = %target.display(), "corrupt database moved aside");
    Ok(target)
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

pub(crate) use import::{import_bytes, import_file};

/// The card of `query` (an id or a name) as of `as_of` (`YYYY-MM-DD`, default today).
pub(crate) fn customer_card(
    store: &Store,
    query: &str,
    as_of: Option<&str>,
) -> Result<CustomerCard> {
    let day = match as_of {
        Some(text) => date::Day::parse(text)
            .ok_or_else(|| Error::InvalidInput(format!("'{text}' is not a YYYY-MM-DD date")))?,
        None => date::Day::today(),
    };
    store.read(|conn| card::card(conn, query, day))
}

/// Up to `limit` pending outbox records, oldest first.
pub(crate) fn outbox_pending(store: &Store, limit: u32) -> Result<Vec<OutboxRecord>> {
    store.read(|conn| outbox::pending(conn, limit))
}

/// Acknowledges delivered outbox records; returns how many were newly acknowledged.
pub(crate) fn outbox_acknowledge(store: &Store, ids: &[String]) -> Result<u32> {
    store.write(|tx| outbox::acknowledge(tx, ids))
}

/// Saves a call note with its outbox event; `None` when the note id was already saved.
#[cfg(test)]
pub(crate) fn save_note(store: &Store, note: &NoteRecord) -> Result<Option<String>> {
    store.write(|tx| notes::save_note(tx, note))
}

/// Saves a call's note with its outbox event and marks the call ended, in one transaction:
/// either the note is kept and the call is over, or neither. A note id saved before is kept
/// as it was.
pub(crate) fn save_note_and_end_call(store: &Store, note: &NoteRecord) -> Result<()> {
    let ended_at = date::now_rfc3339();
    store.write(|tx| {
        notes::save_note(tx, note)?;
        journal::close_call(tx, &note.id, &ended_at)
    })
}

/// Saves a suggestion's fate with its outbox event.
#[allow(dead_code)]
pub(crate) fn record_feedback(store: &Store, feedback: &FeedbackRecord) -> Result<String> {
    store.write(|tx| notes::record_feedback(tx, feedback))
}
