//! Importing a customer snapshot: the history the backend knows, loaded onto the phone.
//!
//! # The snapshot format (version 1)
//!
//! One JSON document, UTF-8, at most [`MAX_SNAPSHOT_BYTES`]:
//!
//! ```json
//! {
//!   "version": 1,
//!   "reps": [{ "id": "rep-li", "name": "李娜" }],
//!   "products": [{ "id": "US-M7", "name_zh": "便携式彩超", "name_en": "Portable ultrasound",
//!                  "registration_no": "国械注准20213060123" }],
//!   "customers": [{
//!     "id": "C-0001", "name_zh": "上海市第六人民医院",
//!     "name_en": "Shanghai Sixth People's Hospital", "kind": "hospital", "city": "上海",
//!     "rep": "rep-li",
//!     "contacts": [{ "name": "王主任", "role": "设备科主任", "phone": "+86 21 6436 9181",
//!                    "email": null }],
//!     "purchases": [{ "date": "2025-03-14", "product": "US-M7", "quantity": 2,
//!                     "amount": 368000.0, "currency": "CNY" }],
//!     "competitor_contacts": [{ "competitor": "Northbridge Medical", "date": "2026-10-02",
//!                               "channel": "visit", "note": "demoed a cheaper monitor" }]
//!   }]
//! }
//! ```
//!
//! `version` is required and must be 1. Every customer needs an `id` and at least one of
//! `name_zh` and `name_en`; `rep` and each purchase's `product` must name a rep or product of
//! the file or of the database. Dates are `YYYY-MM-DD`; amounts are numbers from 0 to
//! 100 billion; quantities whole numbers from 1 to a million; currencies ISO 4217 codes from
//! [`CURRENCIES`]. Unknown fields are refused, so a misspelt field name is an error, not a
//! silent loss. `reps`, `products`, `contacts`, `purchases` and `competitor_contacts` may be
//! left out and then count as empty.
//!
//! # What an import does
//!
//! It runs in one transaction: readers see the data before or after it, never half, and any
//! bad row aborts it with its position (`customers[3].purchases[7].amount`) and the reason,
//! leaving the database as it was. A customer of the file replaces the stored one of the same
//! id, together with its contacts, purchases and competitor contacts; customers absent from the
//! file stay as they are, and notes written on the device are never touched. Rows equal to the
//! stored ones are not rewritten, so importing the same file twice changes nothing.
//!
//! The whole document is parsed into memory before the transaction starts: a 94 MB snapshot of
//! a million purchases peaks at about 320 MB, too much beside loaded models on a phone; a
//! streaming parser that validates and writes customer by customer would fix it.

use super::Store;
use crate::error::{Error, Result};
use rusqlite::{params, Transaction};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

/// The largest snapshot accepted (a million purchases take about 90 MB).
pub(crate) const MAX_SNAPSHOT_BYTES: u64 = 160 * 1024 * 1024;

/// The currencies a purchase may use.
pub(crate) const CURRENCIES: &[&str] = &[
    "AED", "AUD", "BRL", "CAD", "CHF", "CNY", "DKK", "EUR", "GBP", "HKD", "IDR", "INR", "JPY",
    "KRW", "MOP", "MXN", "MYR", "NOK", "NZD", "PHP", "RUB", "SAR", "SEK", "SGD", "THB", "TWD",
    "USD", "VND", "ZAR",
];

const MAX_AMOUNT: f64 = 1e11;
const MAX_QUANTITY: u32 = 1_000_000;
const MAX_ID_CHARS: usize = 100;
const MAX_TEXT_CHARS: usize = 2_000;

/// What an import found in the file and what it changed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record, serde::Serialize)]
pub struct ImportSummary {
    /// Customers in the file.
    pub customers: u32,
    /// Customers added or changed by this import; 0 when the file was imported before.
    pub customers_changed: u32,
    /// Purchases in the file.
    pub purchases: u32,
    /// Contacts in the file.
    pub contacts: u32,
    /// Competitor contacts in the file.
    pub competitor_contacts: u32,
    /// Products in the file.
    pub products: u32,
    /// Reps in the file.
    pub reps: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Snapshot {
    version: u32,
    #[serde(default)]
    reps: Vec<RepRow>,
    #[serde(default)]
    products: Vec<ProductRow>,
    customers: Vec<CustomerRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RepRow {
    id: String,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductRow {
    id: String,
    name_zh: Option<String>,
    name_en: Option<String>,
    registration_no: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerRow {
    id: String,
    name_zh: Option<String>,
    name_en: Option<String>,
    kind: Option<String>,
    city: Option<String>,
    rep: Option<String>,
    #[serde(default)]
    contacts: Vec<ContactRow>,
    #[serde(default)]
    purchases: Vec<PurchaseRow>,
    #[serde(default)]
    competitor_contacts: Vec<CompetitorRow>,
}

#[derive(Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct ContactRow {
    name: String,
    role: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct PurchaseRow {
    date: String,
    product: String,
    quantity: u32,
    amount: f64,
    currency: String,
}

#[derive(Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct CompetitorRow {
    competitor: String,
    date: String,
    channel: Option<String>,
    note: Option<String>,
}

/// Imports the snapshot file at `path`.
pub(crate) fn import_file(store: &Store, path: &Path) -> Result<ImportSummary> {
    let bad = |reason: String| Error::Snapshot {
        position: path.display().to_string(),
        reason,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| bad(format!("the file cannot be read ({e})")))?
        .len();
    if size > MAX_SNAPSHOT_BYTES {
        return Err(bad(format!(
            "the file has {} MB, more than the {} MB a snapshot may have",
            size / 1_000_000,
            MAX_SNAPSHOT_BYTES / 1_000_000
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| bad(format!("the file cannot be read ({e})")))?;
    import_bytes(store, &bytes)
}

/// Imports a snapshot held in memory.
pub(crate) fn import_bytes(store: &Store, bytes: &[u8]) -> Result<ImportSummary> {
    if bytes.len() as u64 > MAX_SNAPSHOT_BYTES {
        return Err(Error::Snapshot {
            position: "the document".into(),
            reason: "it is larger than a snapshot may be".into(),
        });
    }
    let snapshot = parse(bytes)?;
    let summary = store.write(|tx| {
        validate(tx, &snapshot)?;
        write_snapshot(tx, &snapshot)
    })?;
    if summary.customers_changed > 0 {
        store.checkpoint();
    }
    tracing::debug!(
        customers = summary.customers,
        changed = summary.customers_changed,
        "imported"
    );
    Ok(summary)
}

fn parse(bytes: &[u8]) -> Result<Snapshot> {
    let snapshot: Snapshot = serde_json::from_slice(bytes).map_err(|e| {
        let message = e.to_string();
        let reason = match message.rfind(" at line ") {
            Some(at) => message[..at].to_string(),
            None => message,
        };
        Error::Snapshot {
            position: format!("line {}, column {}", e.line(), e.column()),
            reason,
        }
    })?;
    if snapshot.version != 1 {
        return Err(Error::Snapshot {
            position: "version".into(),
            reason: format!(
                "version {} is not the supported version 1",
                snapshot.version
            ),
        });
    }
    Ok(snapshot)
}

/// Checks every row against the rules and the ids the database already knows.
fn validate(tx: &Transaction, snapshot: &Snapshot) -> Result<()> {
    let reps = known_ids(
        tx,
        "SELECT id FROM reps",
        snapshot.reps.iter().map(|r| &r.id),
    )?;
    let products = known_ids(
        tx,
        "SELECT id FROM products",
        snapshot.products.iter().map(|p| &p.id),
    )?;
    unique_ids("reps", snapshot.reps.iter().map(|r| &r.id))?;
    unique_ids("products", snapshot.products.iter().map(|p| &p.id))?;
    unique_ids("customers", snapshot.customers.iter().map(|c| &c.id))?;
    for (i, product) in snapshot.products.iter().enumerate() {
        check_product(product).map_err(|reason| at(format!("products[{i}]"), reason))?;
    }
    for (i, customer) in snapshot.customers.iter().enumerate() {
        check_customer(customer, &reps, &products)
            .map_err(|(field, reason)| at(format!("customers[{i}]{field}"), reason))?;
    }
    Ok(())
}

fn at(position: String, reason: String) -> Error {
    Error::Snapshot { position, reason }
}

fn known_ids<'a>(
    tx: &Transaction,
    sql: &str,
    in_file: impl Iterator<Item = &'a String>,
) -> Result<HashSet<String>> {
    let mut stmt = tx.prepare(sql)?;
    let stored = stmt.query_map([], |row| row.get::<_, String>(0))?;
    let mut ids = stored.collect::<Result<HashSet<_>, _>>()?;
    ids.extend(in_file.cloned());
    Ok(ids)
}

fn unique_ids<'a>(list: &str, ids: impl Iterator<Item = &'a String>) -> Result<()> {
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        check_id(id).map_err(|reason| at(format!("{list}[{i}].id"), reason))?;
        if !seen.insert(id.as_str()) {
            return Err(at(
                format!("{list}[{i}].id"),
                format!("the id '{id}' appears twice in the file"),
            ));
        }
    }
    Ok(())
}

fn check_id(id: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err("the id is empty".into());
    }
    if id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
        return Err(format!(
            "an id has at most {MAX_ID_CHARS} printable characters"
        ));
    }
    Ok(())
}

fn check_text(field: &str, text: Option<&String>) -> Result<(), (String, String)> {
    match text {
        Some(t) if t.chars().count() > MAX_TEXT_CHARS => Err((
            format!(".{field}"),
            format!("the text is longer than {MAX_TEXT_CHARS} characters"),
        )),
        _ => Ok(()),
    }
}

fn check_product(product: &ProductRow) -> Result<(), String> {
    for text in [&product.name_zh, &product.name_en, &product.registration_no] {
        check_text("", text.as_ref()).map_err(|(_, reason)| reason)?;
    }
    Ok(())
}

type FieldError = (String, String);

fn check_customer(
    customer: &CustomerRow,
    reps: &HashSet<String>,
    products: &HashSet<String>,
) -> Result<(), FieldError> {
    let has_name = [&customer.name_zh, &customer.name_en]
        .iter()
        .any(|n| n.as_ref().is_some_and(|n| !n.trim().is_empty()));
    if !has_name {
        return Err((String::new(), "a customer needs name_zh or name_en".into()));
    }
    for (field, text) in [
        ("name_zh", &customer.name_zh),
        ("name_en", &customer.name_en),
        ("kind", &customer.kind),
        ("city", &customer.city),
    ] {
        check_text(field, text.as_ref())?;
    }
    if let Some(rep) = customer.rep.as_ref().filter(|r| !reps.contains(*r)) {
        return Err((
            ".rep".into(),
            format!("the rep '{rep}' is in neither the file nor the database"),
        ));
    }
    for (i, contact) in customer.contacts.iter().enumerate() {
        check_contact(contact).map_err(|(f, r)| (format!(".contacts[{i}]{f}"), r))?;
    }
    for (i, purchase) in customer.purchases.iter().enumerate() {
        check_purchase(purchase, products).map_err(|(f, r)| (format!(".purchases[{i}]{f}"), r))?;
    }
    for (i, contact) in customer.competitor_contacts.iter().enumerate() {
        check_competitor(contact).map_err(|(f, r)| (format!(".competitor_contacts[{i}]{f}"), r))?;
    }
    Ok(())
}

fn check_contact(contact: &ContactRow) -> Result<(), FieldError> {
    if contact.name.trim().is_empty() {
        return Err((".name".into(), "a contact needs a name".into()));
    }
    for (field, text) in [
        ("role", &contact.role),
        ("phone", &contact.phone),
        ("email", &contact.email),
    ] {
        check_text(field, text.as_ref())?;
    }
    check_text("name", Some(&contact.name))
}

fn check_purchase(purchase: &PurchaseRow, products: &HashSet<String>) -> Result<(), FieldError> {
    check_date(&purchase.date)?;
    if !products.contains(&purchase.product) {
        let reason = format!(
            "the product '{}' is in neither the file nor the database",
            purchase.product
        );
        return Err((".product".into(), reason));
    }
    if purchase.quantity == 0 || purchase.quantity > MAX_QUANTITY {
        return Err((
            ".quantity".into(),
            format!("a quantity is from 1 to {MAX_QUANTITY}"),
        ));
    }
    let amount = purchase.amount;
    if !amount.is_finite() || !(0.0..=MAX_AMOUNT).contains(&amount) {
        return Err((
            ".amount".into(),
            format!("{amount} is not an amount from 0 to 100 billion"),
        ));
    }
    if !CURRENCIES.contains(&purchase.currency.as_str()) {
        let reason = format!(
            "'{}' is not a known ISO 4217 currency code",
            purchase.currency
        );
        return Err((".currency".into(), reason));
    }
    Ok(())
}

fn check_competitor(contact: &CompetitorRow) -> Result<(), FieldError> {
    if contact.competitor.trim().is_empty() {
        return Err((".competitor".into(), "the competitor is empty".into()));
    }
    check_date(&contact.date)?;
    check_text("competitor", Some(&contact.competitor))?;
    check_text("channel", contact.channel.as_ref())?;
    check_text("note", contact.note.as_ref())
}

fn check_date(date: &str) -> Result<(), FieldError> {
    match super::date::Day::parse(date) {
        Some(_) => Ok(()),
        None => Err((".date".into(), format!("'{date}' is not a YYYY-MM-DD date"))),
    }
}

fn write_snapshot(tx: &Transaction, snapshot: &Snapshot) -> Result<ImportSummary> {
    for rep in &snapshot.reps {
        tx.prepare_cached(
            "INSERT INTO reps (id, name) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE \
             SET name = excluded.name WHERE name IS NOT excluded.name",
        )?
        .execute(params![rep.id, rep.name])?;
    }
    for p in &snapshot.products {
        tx.prepare_cached(
            "INSERT INTO products (id, name_zh, name_en, registration_no) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO UPDATE SET name_zh = excluded.name_zh, \
             name_en = excluded.name_en, registration_no = excluded.registration_no \
             WHERE name_zh IS NOT excluded.name_zh OR name_en IS NOT excluded.name_en \
             OR registration_no IS NOT excluded.registration_no",
        )?
        .execute(params![p.id, p.name_zh, p.name_en, p.registration_no])?;
    }
    let mut changed = 0;
    for customer in &snapshot.customers {
        changed += u32::from(write_customer(tx, customer)?);
    }
    Ok(summary(snapshot, changed))
}

fn summary(snapshot: &Snapshot, customers_changed: u32) -> ImportSummary {
    let count =
        |f: fn(&CustomerRow) -> usize| snapshot.customers.iter().map(f).sum::<usize>() as u32;
    ImportSummary {
        customers: snapshot.customers.len() as u32,
        customers_changed,
        purchases: count(|c| c.purchases.len()),
        contacts: count(|c| c.contacts.len()),
        competitor_contacts: count(|c| c.competitor_contacts.len()),
        products: snapshot.products.len() as u32,
        reps: snapshot.reps.len() as u32,
    }
}

/// Writes one customer and its rows; true when anything changed.
fn write_customer(tx: &Transaction, c: &CustomerRow) -> Result<bool> {
    let upserted = tx
        .prepare_cached(
            "INSERT INTO customers (id, name_zh, name_en, kind, city, rep_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET \
             name_zh = excluded.name_zh, name_en = excluded.name_en, kind = excluded.kind, \
             city = excluded.city, rep_id = excluded.rep_id \
             WHERE name_zh IS NOT excluded.name_zh OR name_en IS NOT excluded.name_en \
             OR kind IS NOT excluded.kind OR city IS NOT excluded.city \
             OR rep_id IS NOT excluded.rep_id",
        )?
        .execute(params![c.id, c.name_zh, c.name_en, c.kind, c.city, c.rep])?;
    let key: i64 = tx
        .prepare_cached("SELECT key FROM customers WHERE id = ?1")?
        .query_row([&c.id], |row| row.get(0))?;
    let contacts = replace_contacts(tx, key, &c.contacts)?;
    let purchases = replace_purchases(tx, key, &c.purchases)?;
    let competitors = replace_competitors(tx, key, &c.competitor_contacts)?;
    Ok(upserted > 0 || contacts || purchases || competitors)
}

fn replace_contacts(tx: &Transaction, key: i64, rows: &[ContactRow]) -> Result<bool> {
    let stored = tx
        .prepare_cached(
            "SELECT name, role, phone, email FROM contacts WHERE customer_key = ?1 ORDER BY key",
        )?
        .query_map([key], |r| {
            Ok(ContactRow {
                name: r.get(0)?,
                role: r.get(1)?,
                phone: r.get(2)?,
                email: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if stored.as_slice() == rows {
        return Ok(false);
    }
    tx.prepare_cached("DELETE FROM contacts WHERE customer_key = ?1")?
        .execute([key])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO contacts (customer_key, name, role, phone, email) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for c in rows {
        insert.execute(params![key, c.name, c.role, c.phone, c.email])?;
    }
    Ok(true)
}

fn replace_purchases(tx: &Transaction, key: i64, rows: &[PurchaseRow]) -> Result<bool> {
    let stored = tx
        .prepare_cached(
            "SELECT date, product_id, quantity, amount, currency FROM purchases \
             WHERE customer_key = ?1 ORDER BY key",
        )?
        .query_map([key], |r| {
            Ok(PurchaseRow {
                date: r.get(0)?,
                product: r.get(1)?,
                quantity: r.get(2)?,
                amount: r.get(3)?,
                currency: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if stored.as_slice() == rows {
        return Ok(false);
    }
    tx.prepare_cached("DELETE FROM purchases WHERE customer_key = ?1")?
        .execute([key])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO purchases (customer_key, date, product_id, quantity, amount, currency) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for p in rows {
        insert.execute(params![
            key, p.date, p.product, p.quantity, p.amount, p.currency
        ])?;
    }
    Ok(true)
}

fn replace_competitors(tx: &Transaction, key: i64, rows: &[CompetitorRow]) -> Result<bool> {
    let stored = tx
        .prepare_cached(
            "SELECT competitor, date, channel, note FROM competitor_contacts \
             WHERE customer_key = ?1 ORDER BY key",
        )?
        .query_map([key], |r| {
            Ok(CompetitorRow {
                competitor: r.get(0)?,
                date: r.get(1)?,
                channel: r.get(2)?,
                note: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if stored.as_slice() == rows {
        return Ok(false);
    }
    tx.prepare_cached("DELETE FROM competitor_contacts WHERE customer_key = ?1")?
        .execute([key])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO competitor_contacts (customer_key, competitor, date, channel, note) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for c in rows {
        insert.execute(params![key, c.competitor, c.date, c.channel, c.note])?;
    }
    Ok(true)
}
