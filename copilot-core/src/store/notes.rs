//! Writing call notes and suggestion feedback, each with its outbox event.
//!
//! The note builder and the coach own what goes into these records; this module only keeps
//! them. A note's objections and commitments also go into child tables, because the customer
//! card asks for the open ones across every past note without reading whole notes.

use super::{date, outbox};
use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// A finished call note as the store keeps it.
#[derive(Debug, Clone)]
pub(crate) struct NoteRecord {
    pub id: String,
    /// The customer's id; `None` when the call was not tied to a known customer.
    pub customer_id: Option<String>,
    pub rep_id: String,
    /// RFC 3339.
    pub started_at: String,
    pub duration_s: f64,
    pub language: Option<String>,
    pub summary: Option<String>,
    pub follow_up_date: Option<String>,
    pub objections: Vec<ObjectionRecord>,
    pub commitments: Vec<CommitmentRecord>,
    /// The whole note as JSON, as it leaves the device.
    pub body: serde_json::Value,
}

/// An objection raised in a call.
#[derive(Debug, Clone)]
pub(crate) struct ObjectionRecord {
    pub kind: String,
    pub quote: Option<String>,
    pub at_s: Option<f64>,
    pub answered: bool,
}

/// A promise made in a call.
#[derive(Debug, Clone)]
pub(crate) struct CommitmentRecord {
    pub who: Option<String>,
    pub what: String,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
}

/// The rep's reaction to one suggestion.
#[derive(Debug, Clone)]
pub(crate) struct FeedbackRecord {
    pub rep_id: String,
    pub call_id: Option<String>,
    pub scenario: String,
    pub suggestion_id: Option<String>,
    /// `shown`, `used`, `edited` or `deleted`.
    pub fate: String,
}

/// Saves a note and its `call_note` outbox event. Saving a note id that is already there does
/// nothing and returns `None`; otherwise returns the event's id.
pub(crate) fn save_note(tx: &Transaction, note: &NoteRecord) -> Result<Option<String>> {
    ensure_rep(tx, &note.rep_id)?;
    let customer_key: Option<i64> = match &note.customer_id {
        Some(id) => tx
            .query_row("SELECT key FROM customers WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .optional()?,
        None => None,
    };
    let inserted = tx.execute(
        "INSERT INTO call_notes (id, customer_key, rep_id, started_at, duration_s, language, \
         summary, follow_up_date, body, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO NOTHING",
        params![
            note.id,
            customer_key,
            note.rep_id,
            note.started_at,
            note.duration_s,
            note.language,
            note.summary,
            note.follow_up_date,
            note.body.to_string(),
            date::now_rfc3339()
        ],
    )?;
    if inserted == 0 {
        return Ok(None);
    }
    save_children(tx, note)?;
    let payload = serde_json::json!({ "note_id": note.id, "note": note.body });
    outbox::enqueue(tx, "call_note", &payload).map(Some)
}

fn save_children(tx: &Transaction, note: &NoteRecord) -> Result<()> {
    let mut objection = tx.prepare_cached(
        "INSERT INTO note_objections (note_id, position, type, quote, at_s, answered) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (i, o) in note.objections.iter().enumerate() {
        objection.execute(params![note.id, i, o.kind, o.quote, o.at_s, o.answered])?;
    }
    let mut commitment = tx.prepare_cached(
        "INSERT INTO note_commitments (note_id, position, who, what, due_date) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (i, c) in note.commitments.iter().enumerate() {
        commitment.execute(params![note.id, i, c.who, c.what, c.due_date])?;
    }
    Ok(())
}

/// Saves one suggestion's fate and its `suggestion_feedback` outbox event.
pub(crate) fn record_feedback(tx: &Transaction, feedback: &FeedbackRecord) -> Result<String> {
    ensure_rep(tx, &feedback.rep_id)?;
    let at = date::now_rfc3339();
    tx.execute(
        "INSERT INTO suggestion_feedback (rep_id, call_id, scenario, suggestion_id, fate, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            feedback.rep_id,
            feedback.call_id,
            feedback.scenario,
            feedback.suggestion_id,
            feedback.fate,
            at
        ],
    )?;
    let payload = serde_json::json!({
        "rep_id": feedback.rep_id,
        "call_id": feedback.call_id,
        "scenario": feedback.scenario,
        "suggestion_id": feedback.suggestion_id,
        "fate": feedback.fate,
        "at": at,
    });
    outbox::enqueue(tx, "suggestion_feedback", &payload)
}

/// A customer as a note names it.
#[derive(Debug, Clone)]
pub(crate) struct CustomerNames {
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
}

/// The names of customer `id`, or `None` when the cache does not hold it.
pub(crate) fn customer_names(conn: &Connection, id: &str) -> Result<Option<CustomerNames>> {
    let names = conn
        .query_row(
            "SELECT name_zh, name_en FROM customers WHERE id = ?1",
            [id],
            |row| {
                Ok(CustomerNames {
                    name_zh: row.get(0)?,
                    name_en: row.get(1)?,
                })
            },
        )
        .optional()?;
    Ok(names)
}

/// A catalogue product: id, Chinese and English names, registration number.
pub(crate) type ProductNames = (String, Option<String>, Option<String>, Option<String>);

/// Every catalogue product, by id.
pub(crate) fn products(conn: &Connection) -> Result<Vec<ProductNames>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, name_zh, name_en, registration_no FROM products ORDER BY id")?;
    let products = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(products)
}

/// Every competitor any customer was seen with, by name.
pub(crate) fn competitors(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT competitor FROM competitor_contacts ORDER BY competitor",
    )?;
    let competitors = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(competitors)
}

/// Adds a rep seen for the first time on this device (a rep signs in before any import).
pub(super) fn ensure_rep(tx: &Transaction, rep_id: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO reps (id) VALUES (?1) ON CONFLICT (id) DO NOTHING",
        [rep_id],
    )?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    //! Notes and feedback for tests.
    use super::*;

    /// A note for customer `customer` with one open objection and one commitment.
    pub(crate) fn note(id: &str, customer: Option<&str>, started_at: &str) -> NoteRecord {
        NoteRecord {
            id: id.to_string(),
            customer_id: customer.map(str::to_string),
            rep_id: "rep-test".into(),
            started_at: started_at.into(),
            duration_s: 300.0,
            language: Some("zh".into()),
            summary: Some("test call".into()),
            follow_up_date: None,
            objections: vec![ObjectionRecord {
                kind: "price_too_high".into(),
                quote: Some("价格太高了".into()),
                at_s: Some(12.5),
                answered: false,
            }],
            commitments: vec![CommitmentRecord {
                who: Some("rep".into()),
                what: "send the quotation".into(),
                due_date: Some("2026-12-10".into()),
            }],
            body: serde_json::json!({ "id": id }),
        }
    }

    /// A `deleted` feedback event by `rep`.
    pub(crate) fn feedback(rep: &str) -> FeedbackRecord {
        FeedbackRecord {
            rep_id: rep.into(),
            call_id: None,
            scenario: "price_too_high".into(),
            suggestion_id: Some("s1".into()),
            fate: "deleted".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp_store;
    use super::*;

    #[test]
    fn a_note_and_its_event_are_written_once() -> Result<()> {
        let (_dir, store) = temp_store();
        let n = testing::note("n1", None, "2026-12-01T10:00:00+08:00");
        assert!(store.write(|tx| save_note(tx, &n))?.is_some());
        assert!(store.write(|tx| save_note(tx, &n))?.is_none());
        let counts: (i64, i64, i64) = store.read(|c| {
            Ok(c.query_row(
                "SELECT (SELECT count(*) FROM call_notes), (SELECT count(*) FROM outbox), \
                 (SELECT count(*) FROM note_objections)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })?;
        assert_eq!(counts, (1, 1, 1));
        Ok(())
    }
}
