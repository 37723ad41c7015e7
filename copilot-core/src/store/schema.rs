//! The database schema and its migrations.
//!
//! `PRAGMA user_version` holds the schema version. Each migration moves the file up by one
//! version inside one immediate transaction, so a crash or a second process in the middle leaves
//! the file at the version before or after, never between. A file with a version above
//! [`LATEST`] was written by a newer library and is refused: guessing at its meaning could lose
//! notes that have not reached the backend yet.
//!
//! Released versions are never edited; a change is a new migration. `fixtures/store/` keeps a
//! dump of every released version for the upgrade tests.

use crate::error::{Error, Result};
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// Version 1: every table the store holds.
const V1: &str = r#"
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('device_id', lower(hex(randomblob(8))));
CREATE TABLE reps (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT
);
CREATE TABLE customers (
    key INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name_zh TEXT,
    name_en TEXT,
    kind TEXT,
    city TEXT,
    rep_id TEXT REFERENCES reps (id)
);
CREATE TABLE contacts (
    key INTEGER PRIMARY KEY,
    customer_key INTEGER NOT NULL REFERENCES customers (key) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT,
    phone TEXT,
    email TEXT
);
CREATE INDEX contacts_by_customer ON contacts (customer_key);
CREATE TABLE products (
    id TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT,
    name_en TEXT,
    registration_no TEXT
);
CREATE TABLE purchases (
    key INTEGER PRIMARY KEY,
    customer_key INTEGER NOT NULL REFERENCES customers (key) ON DELETE CASCADE,
    date TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    amount REAL NOT NULL CHECK (amount >= 0),
    currency TEXT NOT NULL
);
CREATE INDEX purchases_by_customer ON purchases (customer_key, date);
CREATE TABLE competitor_contacts (
    key INTEGER PRIMARY KEY,
    customer_key INTEGER NOT NULL REFERENCES customers (key) ON DELETE CASCADE,
    competitor TEXT NOT NULL,
    date TEXT NOT NULL,
    channel TEXT,
    note TEXT
);
CREATE TABLE call_notes (
    id TEXT PRIMARY KEY NOT NULL,
    customer_key INTEGER REFERENCES customers (key) ON DELETE SET NULL,
    rep_id TEXT NOT NULL REFERENCES reps (id),
    started_at TEXT NOT NULL,
    duration_s REAL NOT NULL,
    language TEXT,
    summary TEXT,
    follow_up_date TEXT,
    body TEXT NOT NULL CHECK (json_valid(body)),
    created_at TEXT NOT NULL
);
CREATE TABLE note_objections (
    note_id TEXT NOT NULL REFERENCES call_notes (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    type TEXT NOT NULL,
    quote TEXT,
    at_s REAL,
    answered INTEGER NOT NULL DEFAULT 0,
    resolved_at TEXT,
    PRIMARY KEY (note_id, position)
);
CREATE TABLE note_commitments (
    note_id TEXT NOT NULL REFERENCES call_notes (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    who TEXT,
    what TEXT NOT NULL,
    due_date TEXT,
    done_at TEXT,
    PRIMARY KEY (note_id, position)
);
CREATE TABLE suggestion_feedback (
    key INTEGER PRIMARY KEY,
    rep_id TEXT NOT NULL REFERENCES reps (id),
    call_id TEXT,
    scenario TEXT NOT NULL,
    suggestion_id TEXT,
    fate TEXT NOT NULL CHECK (fate IN ('shown', 'used', 'edited', 'deleted')),
    at TEXT NOT NULL
);
CREATE TABLE breaker_state (
    rep_id TEXT NOT NULL REFERENCES reps (id),
    scenario TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
    deleted_in_row INTEGER NOT NULL DEFAULT 0,
    opened_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (rep_id, scenario)
);
CREATE TABLE compliance_streaks (
    rep_id TEXT NOT NULL REFERENCES reps (id),
    item TEXT NOT NULL,
    missed_in_row INTEGER NOT NULL DEFAULT 0,
    call_ids TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(call_ids)),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (rep_id, item)
);
CREATE TABLE calls (
    id TEXT PRIMARY KEY NOT NULL,
    rep_id TEXT NOT NULL REFERENCES reps (id),
    customer_key INTEGER REFERENCES customers (key) ON DELETE SET NULL,
    started_at TEXT NOT NULL,
    language TEXT,
    ended_at TEXT
);
CREATE TABLE call_journal (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    speaker TEXT CHECK (speaker IN ('rep', 'customer')),
    text TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
);
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    created_at TEXT NOT NULL,
    acked_at TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE acked_at IS NULL;
"#;

/// Version 2: the indexes that let a card be found by name and read without a table scan.
const V2: &str = r#"
CREATE INDEX customers_by_name_zh ON customers (name_zh);
CREATE INDEX customers_by_name_en ON customers (name_en COLLATE NOCASE);
CREATE INDEX competitor_contacts_by_customer ON competitor_contacts (customer_key, date);
CREATE INDEX call_notes_by_customer ON call_notes (customer_key, started_at);
"#;

/// Version 3: the suggestions the coach showed (so feedback can name one by id and find its rep
/// and scenario) and the calls whose compliance streaks were counted (so a call counts once).
const V3: &str = r#"
CREATE TABLE coach_suggestions (
    id TEXT PRIMARY KEY NOT NULL,
    rep_id TEXT NOT NULL REFERENCES reps (id),
    call_id TEXT,
    scenario TEXT NOT NULL,
    script_id TEXT NOT NULL,
    fate TEXT NOT NULL DEFAULT 'shown' CHECK (fate IN ('shown', 'used', 'edited', 'deleted')),
    shown_at TEXT NOT NULL,
    fate_at TEXT
);
CREATE TABLE coach_calls (
    call_id TEXT PRIMARY KEY NOT NULL,
    rep_id TEXT NOT NULL REFERENCES reps (id),
    finished_at TEXT NOT NULL
);
"#;

/// Version 4: a call keeps the customer id it was started with (known to the store or not) and
/// the options it was started with, so a call cut short can be finished exactly as it began.
const V4: &str = r#"
ALTER TABLE calls ADD COLUMN customer_id TEXT;
ALTER TABLE calls ADD COLUMN options TEXT CHECK (options IS NULL OR json_valid(options));
CREATE INDEX calls_unfinished ON calls (started_at) WHERE ended_at IS NULL;
"#;

/// Every migration in order: entry `i` takes a file from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4];

/// The schema version this library writes.
pub(crate) const LATEST: u32 = MIGRATIONS.len() as u32;

/// Brings the database up to [`LATEST`], one immediate transaction per version.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = version(&tx)?;
        if found > LATEST {
            return Err(Error::DatabaseNewer {
                path: path.to_path_buf(),
                found,
                supported: LATEST,
            });
        }
        let Some(step) = MIGRATIONS.get(found as usize) else {
            return Ok(());
        };
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", found + 1)?;
        tx.commit()?;
        tracing::debug!(version = found + 1, "database migrated");
    }
}

/// The file's `user_version`.
pub(crate) fn version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |row| row.get(0))?)
}
