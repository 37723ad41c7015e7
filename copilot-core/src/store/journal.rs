//! The call journal: every live call and its final utterances, written as they settle, so a
//! call whose process died can be finished from what was said.
//!
//! A call row is written when the call starts and marked ended in the same transaction that
//! saves its note; a call without an end is unfinished and is offered back at the next start.

use super::{notes::ensure_rep, outbox};
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// A call as it started.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CallRecord {
    pub id: String,
    pub rep_id: String,
    pub customer_id: Option<String>,
    /// RFC 3339 with the call's offset.
    pub started_at: String,
    pub language: Option<String>,
    /// The options the call started with, as JSON.
    pub options: serde_json::Value,
}

/// One final utterance as journaled.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JournalLine {
    pub seq: u32,
    pub start_s: f64,
    pub end_s: f64,
    /// `rep`, `customer` or `None`.
    pub speaker: Option<String>,
    pub text: String,
}

/// Writes a new call and returns its id.
pub(crate) fn open_call(tx: &Transaction, call: &CallRecord) -> Result<String> {
    ensure_rep(tx, &call.rep_id)?;
    let id = format!("call-{}", outbox::next_id(tx)?);
    let customer_key: Option<i64> = match &call.customer_id {
        Some(cid) => tx
            .query_row("SELECT key FROM customers WHERE id = ?1", [cid], |row| {
                row.get(0)
            })
            .optional()?,
        None => None,
    };
    tx.execute(
        "INSERT INTO calls (id, rep_id, customer_key, customer_id, started_at, language, options) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            call.rep_id,
            customer_key,
            call.customer_id,
            call.started_at,
            call.language,
            call.options.to_string()
        ],
    )?;
    Ok(id)
}

/// Appends a final utterance to a call's journal. Writing a position twice keeps the first.
pub(crate) fn append(tx: &Transaction, call_id: &str, line: &JournalLine) -> Result<()> {
    tx.execute(
        "INSERT INTO call_journal (call_id, seq, start_s, end_s, speaker, text) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (call_id, seq) DO NOTHING",
        params![
            call_id,
            line.seq,
            line.start_s,
            line.end_s,
            line.speaker,
            line.text
        ],
    )?;
    Ok(())
}

/// Marks a call ended at `ended_at` (RFC 3339); an already ended call is an error, so a note is
/// never written twice for one call.
pub(crate) fn close_call(tx: &Transaction, call_id: &str, ended_at: &str) -> Result<()> {
    let changed = tx.execute(
        "UPDATE calls SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
        params![call_id, ended_at],
    )?;
    if changed == 0 {
        return Err(Error::InvalidInput(format!(
            "the call {call_id} is unknown or already finished"
        )));
    }
    Ok(())
}

/// The calls that started and never ended, oldest first.
pub(crate) fn unfinished(conn: &Connection) -> Result<Vec<CallRecord>> {
    let mut stmt = conn.prepare(
        "SELECT id, rep_id, customer_id, started_at, language, options FROM calls \
         WHERE ended_at IS NULL ORDER BY started_at, id",
    )?;
    let rows = stmt.query_map([], call_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Call `id` if it started and never ended.
pub(crate) fn unfinished_call(conn: &Connection, id: &str) -> Result<Option<CallRecord>> {
    let call = conn
        .query_row(
            "SELECT id, rep_id, customer_id, started_at, language, options FROM calls \
             WHERE id = ?1 AND ended_at IS NULL",
            [id],
            call_row,
        )
        .optional()?;
    Ok(call)
}

/// A call's journaled utterances in order.
pub(crate) fn lines(conn: &Connection, call_id: &str) -> Result<Vec<JournalLine>> {
    let mut stmt = conn.prepare(
        "SELECT seq, start_s, end_s, speaker, text FROM call_journal WHERE call_id = ?1 \
         ORDER BY seq",
    )?;
    let rows = stmt.query_map([call_id], |row| {
        Ok(JournalLine {
            seq: row.get(0)?,
            start_s: row.get(1)?,
            end_s: row.get(2)?,
            speaker: row.get(3)?,
            text: row.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn call_row(row: &rusqlite::Row) -> rusqlite::Result<CallRecord> {
    let options: Option<String> = row.get(5)?;
    Ok(CallRecord {
        id: row.get(0)?,
        rep_id: row.get(1)?,
        customer_id: row.get(2)?,
        started_at: row.get(3)?,
        language: row.get(4)?,
        options: options
            .and_then(|o| serde_json::from_str(&o).ok())
            .unwrap_or(serde_json::Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn call(rep: &str) -> CallRecord {
        CallRecord {
            id: String::new(),
            rep_id: rep.into(),
            customer_id: Some("C-unknown".into()),
            started_at: "2026-11-20T10:00:00+08:00".into(),
            language: Some("zh".into()),
            options: serde_json::json!({"consent_to_record": true}),
        }
    }

    fn line(seq: u32, text: &str) -> JournalLine {
        JournalLine {
            seq,
            start_s: f64::from(seq),
            end_s: f64::from(seq) + 0.5,
            speaker: Some("customer".into()),
            text: text.into(),
        }
    }

    #[test]
    fn a_call_survives_a_restart_until_it_is_closed_once() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::InvalidInput(e.to_string()))?;
        let path = dir.path().join("copilot.db");
        let id = {
            let store = Store::open(&path)?;
            let id = store.write(|tx| open_call(tx, &call("rep-a")))?;
            store.write(|tx| append(tx, &id, &line(0, "太贵了")))?;
            store.write(|tx| append(tx, &id, &line(1, "再便宜点")))?;
            store.write(|tx| append(tx, &id, &line(1, "a repeat is ignored")))?;
            id
        };
        let store = Store::open(&path)?;
        let open = store.read(unfinished)?;
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].customer_id.as_deref(), Some("C-unknown"));
        assert_eq!(open[0].options["consent_to_record"], true);
        let said = store.read(|c| lines(c, &id))?;
        assert_eq!(said.len(), 2);
        assert_eq!(said[1].text, "再便宜点");
        store.write(|tx| close_call(tx, &id, "2026-11-20T10:30:00+08:00"))?;
        assert!(store.read(unfinished)?.is_empty());
        let again = store.write(|tx| close_call(tx, &id, "2026-11-20T10:31:00+08:00"));
        assert!(matches!(again, Err(Error::InvalidInput(_))));
        Ok(())
    }
}
