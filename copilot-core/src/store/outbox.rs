//! The outbox: events waiting for the app to deliver them to the backend.
//!
//! Every change that must leave the device adds its event inside the change's own transaction,
//! so a change without its event (or the reverse) never exists. The app takes a batch of
//! pending records, sends them, and acknowledges the ids that arrived; a record stays pending
//! until then, and acknowledging an id twice does nothing. Ids are unique and sort in the order
//! the events were written: the milliseconds of the write, a counter for events in the same
//! millisecond (never going back even if the clock does), and this database's random device id,
//! so ids from two phones never collide at the backend.

use super::date;
use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// One event waiting to be delivered.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct OutboxRecord {
    /// Unique and time-ordered; send it along so the backend can drop a repeat.
    pub id: String,
    /// What the event reports: `call_note`, `suggestion_feedback`, `coaching_task`, ...
    pub kind: String,
    /// The event as a JSON document.
    pub payload: String,
    /// When it was written, RFC 3339.
    pub created_at: String,
}

/// The meta row that remembers the last id's clock and counter.
const CLOCK_KEY: &str = "outbox_clock";

/// Adds an event inside the caller's transaction and returns its id.
pub(crate) fn enqueue(tx: &Transaction, kind: &str, payload: &serde_json::Value) -> Result<String> {
    let id = next_id(tx)?;
    tx.execute(
        "INSERT INTO outbox (id, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, kind, payload.to_string(), date::now_rfc3339()],
    )?;
    tracing::trace!(%id, kind, "outbox event written");
    Ok(id)
}

/// A new unique, time-ordered id (outbox records and calls share the sequence).
pub(super) fn next_id(tx: &Transaction) -> Result<String> {
    let device: String = tx.query_row(
        "SELECT value FROM meta WHERE key = 'device_id'",
        [],
        |row| row.get(0),
    )?;
    let last: Option<String> = tx
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [CLOCK_KEY],
            |row| row.get(0),
        )
        .optional()?;
    let (last_ms, last_count) = last.as_deref().and_then(parse_clock).unwrap_or((0, 0));
    let now = date::unix_millis();
    let (ms, count) = match now.cmp(&last_ms) {
        std::cmp::Ordering::Greater => (now, 0),
        _ if last_count >= 0xffff => (last_ms + 1, 0),
        _ => (last_ms, last_count + 1),
    };
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![CLOCK_KEY, format!("{ms}:{count}")],
    )?;
    Ok(format!("{ms:012x}{count:04x}-{device}"))
}

fn parse_clock(text: &str) -> Option<(i64, i64)> {
    let (ms, count) = text.split_once(':')?;
    Some((ms.parse().ok()?, count.parse().ok()?))
}

/// Up to `limit` records not yet acknowledged, oldest first.
pub(crate) fn pending(conn: &Connection, limit: u32) -> Result<Vec<OutboxRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, payload, created_at FROM outbox WHERE acked_at IS NULL \
         ORDER BY id LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |row| {
        Ok(OutboxRecord {
            id: row.get(0)?,
            kind: row.get(1)?,
            payload: row.get(2)?,
            created_at: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// How long a delivered record is kept (to answer "was this sent?") before it is deleted.
const KEEP_DELIVERED_DAYS: i64 = 30;

/// Marks the ids delivered; unknown or already acknowledged ids are ignored. Returns how many
/// records this call acknowledged. Records delivered more than 30 days ago are deleted.
pub(crate) fn acknowledge(tx: &Transaction, ids: &[String]) -> Result<u32> {
    let now = date::now_rfc3339();
    let mut stmt =
        tx.prepare_cached("UPDATE outbox SET acked_at = ?2 WHERE id = ?1 AND acked_at IS NULL")?;
    let mut count = 0u32;
    for id in ids {
        count += stmt.execute(params![id, now])? as u32;
    }
    let cutoff = date::Day::today().plus(-KEEP_DELIVERED_DAYS).to_string();
    tx.prepare_cached("DELETE FROM outbox WHERE acked_at IS NOT NULL AND acked_at < ?1")?
        .execute([cutoff])?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp_store;
    use super::*;

    #[test]
    fn ids_are_unique_and_ordered_even_within_a_millisecond() -> Result<()> {
        let (_dir, store) = temp_store();
        let ids = store.write(|tx| {
            (0..500)
                .map(|i| enqueue(tx, "test", &serde_json::json!({ "i": i })))
                .collect::<Result<Vec<_>>>()
        })?;
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, ids);
        Ok(())
    }

    #[test]
    fn acknowledged_records_leave_the_batch_and_a_second_ack_is_harmless() -> Result<()> {
        let (_dir, store) = temp_store();
        store.write(|tx| {
            for i in 0..5 {
                enqueue(tx, "test", &serde_json::json!({ "i": i }))?;
            }
            Ok(())
        })?;
        let batch = store.read(|c| pending(c, 3))?;
        assert_eq!(batch.len(), 3);
        let ids: Vec<String> = batch.iter().map(|r| r.id.clone()).collect();
        assert_eq!(store.write(|tx| acknowledge(tx, &ids))?, 3);
        assert_eq!(store.write(|tx| acknowledge(tx, &ids))?, 0);
        let rest = store.read(|c| pending(c, 10))?;
        assert_eq!(rest.len(), 2);
        assert!(rest.iter().all(|r| !ids.contains(&r.id)));
        Ok(())
    }

    #[test]
    fn records_delivered_long_ago_are_deleted_and_pending_ones_never() -> Result<()> {
        let (_dir, store) = temp_store();
        let ids = store.write(|tx| {
            (0..3)
                .map(|i| enqueue(tx, "test", &serde_json::json!({ "i": i })))
                .collect::<Result<Vec<_>>>()
        })?;
        store.write(|tx| acknowledge(tx, &ids[..1]))?;
        store.write(|tx| {
            tx.execute(
                "UPDATE outbox SET acked_at = '2020-01-01T00:00:00Z' WHERE acked_at IS NOT NULL",
                [],
            )?;
            acknowledge(tx, &ids[1..2])
        })?;
        let left: i64 =
            store.read(|c| Ok(c.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?))?;
        assert_eq!(
            left, 2,
            "the old delivered record goes, the new one and the pending one stay"
        );
        assert_eq!(store.read(|c| pending(c, 10))?.len(), 1);
        Ok(())
    }
}
