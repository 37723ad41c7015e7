//! The customer card the chat sidebar shows: who the customer is, how they buy, who else
//! courts them, and what is still open from past calls.
//!
//! A card is read in one read transaction from indexed rows only (a customer's last orders, its
//! competitor contacts of a 90-day window, the open items of its notes), so its cost does not
//! grow with the size of the database.

use super::date::Day;
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};

/// How far back competitor contacts count as recent.
const COMPETITOR_WINDOW_DAYS: i64 = 90;

/// The most open objections, commitments or competitor contacts a card lists.
const LIST_LIMIT: u32 = 20;

/// A change of at most this share between the oldest and newest cycle is `steady`.
const STEADY_SHARE: f64 = 0.10;

/// What the sidebar shows about one customer.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct CustomerCard {
    /// Who the customer is.
    pub customer: CustomerSummary,
    /// The date the card was computed for, `YYYY-MM-DD`.
    pub as_of: String,
    /// The date of the last order on or before `as_of`.
    pub last_purchase_date: Option<String>,
    /// Up to the last three purchase cycles, oldest first. A cycle runs from one order date to
    /// the next; purchases on the same date are one order.
    pub purchase_cycles: Vec<PurchaseCycle>,
    /// Whether order amounts grow, shrink or hold over those cycles.
    pub amount_trend: Trend,
    /// Whether the time between orders grows (`rising`), shrinks or holds.
    pub interval_trend: Trend,
    /// The last order date plus the mean interval of the cycles.
    pub next_expected_date: Option<String>,
    /// True when `as_of` is past `next_expected_date`.
    pub overdue: bool,
    /// Days past `next_expected_date`; 0 when not overdue.
    pub days_overdue: u32,
    /// Competitor contacts of the 90 days up to `as_of`, newest first.
    pub competitor_contacts: Vec<CompetitorContact>,
    /// Objections from past notes that the rep left unanswered, newest first.
    pub open_objections: Vec<OpenObjection>,
    /// Commitments from past notes not marked done, earliest due first.
    pub open_commitments: Vec<OpenCommitment>,
}

/// The customer's identity.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct CustomerSummary {
    /// The id the snapshot gave the customer.
    pub id: String,
    /// The Chinese name.
    pub name_zh: Option<String>,
    /// The English name.
    pub name_en: Option<String>,
    /// `hospital`, `clinic`, ... as the snapshot says.
    pub kind: Option<String>,
    /// The city, as the snapshot writes it.
    pub city: Option<String>,
    /// The rep who owns the account.
    pub rep_id: Option<String>,
}

/// The time between two orders and what the second one was worth.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct PurchaseCycle {
    /// The order that opened the cycle, `YYYY-MM-DD`.
    pub from_date: String,
    /// The order that closed it.
    pub to_date: String,
    /// Days from `from_date` to `to_date`.
    pub interval_days: u32,
    /// The closing order's amount.
    pub amount: f64,
    /// ISO 4217 code of `amount`.
    pub currency: String,
}

/// The direction of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    /// The newest value is more than 10% above the oldest.
    Rising,
    /// The newest value is more than 10% below the oldest.
    Falling,
    /// Within 10% either way.
    Steady,
    /// Fewer than two cycles.
    Unknown,
}

/// A contact between the customer and a competitor.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct CompetitorContact {
    /// The competitor's name.
    pub competitor: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `visit`, `call`, `tender`, ... as the snapshot says.
    pub channel: Option<String>,
    /// What happened, in the words of whoever recorded it.
    pub note: Option<String>,
}

/// An objection from a past note that is still open.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct OpenObjection {
    /// The note it came from.
    pub note_id: String,
    /// When the call started, RFC 3339.
    pub call_started_at: String,
    /// The objection type, such as `price_too_high`.
    #[serde(rename = "type")]
    pub objection_type: String,
    /// The customer's words, when the note kept them.
    pub quote: Option<String>,
}

/// A commitment from a past note that is not done.
#[derive(Debug, Clone, PartialEq, uniffi::Record, serde::Serialize)]
pub struct OpenCommitment {
    /// The note it came from.
    pub note_id: String,
    /// When the call started, RFC 3339.
    pub call_started_at: String,
    /// `rep` or `customer`.
    pub who: Option<String>,
    /// What was promised.
    pub what: String,
    /// `YYYY-MM-DD`, when a date was agreed.
    pub due_date: Option<String>,
    /// True when `due_date` is before the card's `as_of`.
    pub overdue: bool,
}

/// Reads the card of the customer whose id or name (Chinese or English) is `query`.
pub(crate) fn card(conn: &Connection, query: &str, as_of: Day) -> Result<CustomerCard> {
    let (key, customer) = find(conn, query)?;
    let orders = last_orders(conn, key, as_of)?;
    let cycles = cycles(&orders);
    let expected = next_expected(&orders, &cycles);
    let days_overdue = expected.map_or(0, |e| (as_of.0 - e.0).max(0));
    Ok(CustomerCard {
        customer,
        as_of: as_of.to_string(),
        last_purchase_date: orders.first().map(|o| o.date.to_string()),
        amount_trend: trend(cycles.iter().map(|c| c.amount)),
        interval_trend: trend(cycles.iter().map(|c| f64::from(c.interval_days))),
        purchase_cycles: cycles,
        next_expected_date: expected.map(|d| d.to_string()),
        overdue: days_overdue > 0,
        days_overdue: u32::try_from(days_overdue).unwrap_or(u32::MAX),
        competitor_contacts: competitor_contacts(conn, key, as_of)?,
        open_objections: open_objections(conn, key)?,
        open_commitments: open_commitments(conn, key, as_of)?,
    })
}

/// Finds a customer by exact id, then by exact Chinese name or English name in any case.
fn find(conn: &Connection, query: &str) -> Result<(i64, CustomerSummary)> {
    let query = query.trim();
    let select = "SELECT key, id, name_zh, name_en, kind, city, rep_id FROM customers";
    let by_id = conn
        .prepare_cached(&format!("{select} WHERE id = ?1"))?
        .query_row([query], summary_row)
        .optional()?;
    if let Some(found) = by_id {
        return Ok(found);
    }
    let by_name = conn
        .prepare_cached(&format!(
            "{select} WHERE name_zh = ?1 UNION SELECT key, id, name_zh, name_en, kind, city, \
             rep_id FROM customers WHERE name_en = ?1 COLLATE NOCASE LIMIT 2"
        ))?
        .query_map([query], summary_row)?
        .collect::<Result<Vec<_>, _>>()?;
    match <[_; 1]>::try_from(by_name) {
        Ok([found]) => Ok(found),
        Err(found) if found.is_empty() => {
            Err(Error::NotFound("no customer has that id or name".into()))
        }
        Err(_) => Err(Error::InvalidInput(
            "more than one customer has that name; ask by id".into(),
        )),
    }
}

fn summary_row(row: &rusqlite::Row) -> rusqlite::Result<(i64, CustomerSummary)> {
    Ok((
        row.get(0)?,
        CustomerSummary {
            id: row.get(1)?,
            name_zh: row.get(2)?,
            name_en: row.get(3)?,
            kind: row.get(4)?,
            city: row.get(5)?,
            rep_id: row.get(6)?,
        },
    ))
}

/// One order: the purchases of one date, in one currency.
struct Order {
    date: Day,
    amount: f64,
    currency: String,
}

/// The last four orders on or before `as_of`, newest first. Orders count only purchases in the
/// currency of the newest one: a customer that changed currency shows its recent history only.
fn last_orders(conn: &Connection, key: i64, as_of: Day) -> Result<Vec<Order>> {
    let as_of = as_of.to_string();
    let rows = conn
        .prepare_cached(
            "SELECT date, sum(amount), currency FROM purchases \
             WHERE customer_key = ?1 AND date <= ?2 AND currency = (\
               SELECT currency FROM purchases WHERE customer_key = ?1 AND date <= ?2 \
               ORDER BY date DESC LIMIT 1) \
             GROUP BY date ORDER BY date DESC LIMIT 4",
        )?
        .query_map(params![key, as_of], |row| {
            Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(date, amount, currency)| {
            Day::parse(&date).map(|date| Order {
                date,
                amount,
                currency,
            })
        })
        .collect())
}

/// Cycles between consecutive orders, oldest first.
fn cycles(orders: &[Order]) -> Vec<PurchaseCycle> {
    let mut cycles: Vec<PurchaseCycle> = orders
        .windows(2)
        .filter_map(|pair| match pair {
            [newer, older] => Some(PurchaseCycle {
                from_date: older.date.to_string(),
                to_date: newer.date.to_string(),
                interval_days: u32::try_from(newer.date.0 - older.date.0).unwrap_or(0),
                amount: newer.amount,
                currency: newer.currency.clone(),
            }),
            _ => None,
        })
        .collect();
    cycles.reverse();
    cycles
}

fn next_expected(orders: &[Order], cycles: &[PurchaseCycle]) -> Option<Day> {
    let last = orders.first()?;
    if cycles.is_empty() {
        return None;
    }
    let total: u32 = cycles.iter().map(|c| c.interval_days).sum();
    let mean = (f64::from(total) / cycles.len() as f64).round() as i64;
    Some(last.date.plus(mean))
}

/// Compares the newest value with the oldest.
fn trend(values: impl Iterator<Item = f64>) -> Trend {
    let values: Vec<f64> = values.collect();
    let (Some(&first), Some(&last)) = (values.first(), values.last()) else {
        return Trend::Unknown;
    };
    if values.len() < 2 {
        return Trend::Unknown;
    }
    let base = first.abs().max(f64::EPSILON);
    match (last - first) / base {
        change if change > STEADY_SHARE => Trend::Rising,
        change if change < -STEADY_SHARE => Trend::Falling,
        _ => Trend::Steady,
    }
}

fn competitor_contacts(conn: &Connection, key: i64, as_of: Day) -> Result<Vec<CompetitorContact>> {
    let since = as_of.plus(-COMPETITOR_WINDOW_DAYS).to_string();
    let rows = conn
        .prepare_cached(
            "SELECT competitor, date, channel, note FROM competitor_contacts \
             WHERE customer_key = ?1 AND date > ?2 AND date <= ?3 \
             ORDER BY date DESC LIMIT ?4",
        )?
        .query_map(params![key, since, as_of.to_string(), LIST_LIMIT], |row| {
            Ok(CompetitorContact {
                competitor: row.get(0)?,
                date: row.get(1)?,
                channel: row.get(2)?,
                note: row.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn open_objections(conn: &Connection, key: i64) -> Result<Vec<OpenObjection>> {
    let rows = conn
        .prepare_cached(
            "SELECT o.note_id, n.started_at, o.type, o.quote FROM call_notes n \
             JOIN note_objections o ON o.note_id = n.id \
             WHERE n.customer_key = ?1 AND o.answered = 0 AND o.resolved_at IS NULL \
             ORDER BY n.started_at DESC, o.position LIMIT ?2",
        )?
        .query_map(params![key, LIST_LIMIT], |row| {
            Ok(OpenObjection {
                note_id: row.get(0)?,
                call_started_at: row.get(1)?,
                objection_type: row.get(2)?,
                quote: row.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn open_commitments(conn: &Connection, key: i64, as_of: Day) -> Result<Vec<OpenCommitment>> {
    let as_of = as_of.to_string();
    let rows = conn
        .prepare_cached(
            "SELECT c.note_id, n.started_at, c.who, c.what, c.due_date FROM call_notes n \
             JOIN note_commitments c ON c.note_id = n.id \
             WHERE n.customer_key = ?1 AND c.done_at IS NULL \
             ORDER BY c.due_date IS NULL, c.due_date, n.started_at LIMIT ?2",
        )?
        .query_map(params![key, LIST_LIMIT], |row| {
            let due_date: Option<String> = row.get(4)?;
            Ok(OpenCommitment {
                note_id: row.get(0)?,
                call_started_at: row.get(1)?,
                who: row.get(2)?,
                what: row.get(3)?,
                overdue: due_date.as_deref().is_some_and(|d| d < as_of.as_str()),
                due_date,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
