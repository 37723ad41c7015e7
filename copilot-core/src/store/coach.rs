//! What the coach keeps between calls and restarts: the suggestions it showed and their fates,
//! the circuit breaker per rep and scenario, the compliance streaks per rep and item, and the
//! calls whose streaks were counted.
//!
//! The coach decides; this module only reads and writes rows inside the caller's transaction,
//! so a state change and its outbox event are committed together or not at all.

use super::notes::{self, FeedbackRecord};
use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// A suggestion shown to a rep.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SuggestionRow {
    pub id: String,
    pub rep_id: String,
    pub call_id: Option<String>,
    pub scenario: String,
    pub script_id: String,
    /// `shown` until the rep's final reaction: `used`, `edited` or `deleted`.
    pub fate: String,
}

/// The breaker of one rep and scenario as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BreakerRow {
    pub rep_id: String,
    pub scenario: String,
    /// `closed`, `open` or `half_open`.
    pub state: String,
    pub deleted_in_row: u32,
    /// RFC 3339 with offset.
    pub opened_at: Option<String>,
    pub updated_at: String,
}

/// Remembers suggestions as shown.
pub(crate) fn save_suggestions(tx: &Transaction, rows: &[SuggestionRow], at: &str) -> Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO coach_suggestions (id, rep_id, call_id, scenario, script_id, fate, shown_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
    )?;
    for row in rows {
        notes::ensure_rep(tx, &row.rep_id)?;
        insert.execute(params![
            row.id,
            row.rep_id,
            row.call_id,
            row.scenario,
            row.script_id,
            row.fate,
            at
        ])?;
    }
    Ok(())
}

/// The suggestion with this id, if it was shown.
pub(crate) fn suggestion(conn: &Connection, id: &str) -> Result<Option<SuggestionRow>> {
    let row = conn
        .prepare_cached(
            "SELECT id, rep_id, call_id, scenario, script_id, fate FROM coach_suggestions \
             WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(SuggestionRow {
                id: r.get(0)?,
                rep_id: r.get(1)?,
                call_id: r.get(2)?,
                scenario: r.get(3)?,
                script_id: r.get(4)?,
                fate: r.get(5)?,
            })
        })
        .optional()?;
    Ok(row)
}

/// Records a suggestion's fate: on its row, in `suggestion_feedback`, and as an outbox event.
pub(crate) fn record_fate(
    tx: &Transaction,
    row: &SuggestionRow,
    fate: &str,
    at: &str,
) -> Result<()> {
    tx.execute(
        "UPDATE coach_suggestions SET fate = ?2, fate_at = ?3 WHERE id = ?1",
        params![row.id, fate, at],
    )?;
    let feedback = FeedbackRecord {
        rep_id: row.rep_id.clone(),
        call_id: row.call_id.clone(),
        scenario: row.scenario.clone(),
        suggestion_id: Some(row.id.clone()),
        fate: fate.to_string(),
    };
    notes::record_feedback(tx, &feedback)?;
    Ok(())
}

fn breaker_from(r: &rusqlite::Row) -> rusqlite::Result<BreakerRow> {
    Ok(BreakerRow {
        rep_id: r.get(0)?,
        scenario: r.get(1)?,
        state: r.get(2)?,
        deleted_in_row: r.get(3)?,
        opened_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

const BREAKER_COLUMNS: &str =
    "SELECT rep_id, scenario, state, deleted_in_row, opened_at, updated_at FROM breaker_state";

/// The breaker of one rep and scenario, if it was ever touched.
pub(crate) fn breaker(conn: &Connection, rep: &str, scenario: &str) -> Result<Option<BreakerRow>> {
    let sql = format!("{BREAKER_COLUMNS} WHERE rep_id = ?1 AND scenario = ?2");
    let row = conn
        .prepare_cached(&sql)?
        .query_row([rep, scenario], breaker_from)
        .optional()?;
    Ok(row)
}

/// Every breaker of a rep, by scenario.
pub(crate) fn breakers(conn: &Connection, rep: &str) -> Result<Vec<BreakerRow>> {
    let sql = format!("{BREAKER_COLUMNS} WHERE rep_id = ?1 ORDER BY scenario");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([rep], breaker_from)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Writes a breaker row.
pub(crate) fn put_breaker(tx: &Transaction, row: &BreakerRow) -> Result<()> {
    notes::ensure_rep(tx, &row.rep_id)?;
    tx.execute(
        "INSERT INTO breaker_state (rep_id, scenario, state, deleted_in_row, opened_at, \
         updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (rep_id, scenario) DO UPDATE SET state = excluded.state, \
         deleted_in_row = excluded.deleted_in_row, opened_at = excluded.opened_at, \
         updated_at = excluded.updated_at",
        params![
            row.rep_id,
            row.scenario,
            row.state,
            row.deleted_in_row,
            row.opened_at,
            row.updated_at
        ],
    )?;
    Ok(())
}

/// A rep's streak of calls without an item: the count and the calls.
pub(crate) fn streak(conn: &Connection, rep: &str, item: &str) -> Result<(u32, Vec<String>)> {
    let row: Option<(u32, String)> = conn
        .prepare_cached(
            "SELECT missed_in_row, call_ids FROM compliance_streaks \
             WHERE rep_id = ?1 AND item = ?2",
        )?
        .query_row([rep, item], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((missed, ids)) = row else {
        return Ok((0, Vec::new()));
    };
    let calls: Vec<String> = serde_json::from_str(&ids).unwrap_or_default();
    Ok((missed, calls))
}

/// Writes a rep's streak for an item.
pub(crate) fn put_streak(
    tx: &Transaction,
    rep: &str,
    item: &str,
    (missed, calls): (u32, &[String]),
    at: &str,
) -> Result<()> {
    notes::ensure_rep(tx, rep)?;
    let ids = serde_json::to_string(calls).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO compliance_streaks (rep_id, item, missed_in_row, call_ids, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (rep_id, item) DO UPDATE SET \
         missed_in_row = excluded.missed_in_row, call_ids = excluded.call_ids, \
         updated_at = excluded.updated_at",
        params![rep, item, missed, ids, at],
    )?;
    Ok(())
}

/// Marks a call's compliance as counted; false when it already was.
pub(crate) fn mark_call_counted(tx: &Transaction, call: &str, rep: &str, at: &str) -> Result<bool> {
    notes::ensure_rep(tx, rep)?;
    let inserted = tx.execute(
        "INSERT INTO coach_calls (call_id, rep_id, finished_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (call_id) DO NOTHING",
        params![call, rep, at],
    )?;
    Ok(inserted == 1)
}
