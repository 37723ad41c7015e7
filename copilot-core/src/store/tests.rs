//! Tests of opening, migrating, recovering, importing and reading cards on real SQLite files.

use super::notes::testing;
use super::*;
use rusqlite::types::Value;

/// A store in a fresh temporary folder; keep the folder alive as long as the store.
pub(crate) fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join(DB_FILE)).expect("open store");
    (dir, store)
}

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(path)
}

/// Every row of every table, in rowid order: equal dumps mean equal databases.
pub(crate) fn dump(conn: &Connection) -> Vec<String> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("tables");
    let mut out = Vec::new();
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .expect("select");
        let columns = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..columns)
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .expect("rows");
        for row in rows {
            out.push(format!("{table}: {:?}", row.expect("row")));
        }
    }
    out
}

fn schema_of(conn: &Connection) -> Vec<(String, String, Option<String>)> {
    conn.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .expect("schema")
}

fn state(store: &Store) -> Vec<String> {
    store.read(|c| Ok(dump(c))).expect("dump")
}

#[test]
fn a_fresh_database_is_at_the_latest_version_in_wal_mode_with_foreign_keys() -> Result<()> {
    let (_dir, store) = temp_store();
    let conn = lock(&store.writer);
    assert_eq!(schema::version(&conn)?, schema::LATEST);
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    assert_eq!(mode, "wal");
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    assert_eq!(fk, 1);
    Ok(())
}

#[test]
fn the_version_1_fixture_migrates_to_the_latest_schema_and_keeps_its_rows() -> Result<()> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(DB_FILE);
    let sql = std::fs::read_to_string(fixture("store/schema-v1.sql")).expect("fixture");
    Connection::open(&path)?.execute_batch(&sql)?;

    let store = Store::open(&path)?;
    let card = customer_card(&store, "C-0001", Some("2026-06-01"))?;
    assert_eq!(card.purchase_cycles.len(), 3);
    assert_eq!(card.open_objections.len(), 1);
    assert_eq!(outbox_pending(&store, 10)?.len(), 1);

    let (_fresh_dir, fresh) = temp_store();
    let upgraded = schema_of(&lock(&store.writer));
    assert_eq!(upgraded, schema_of(&lock(&fresh.writer)));
    assert_eq!(schema::version(&lock(&store.writer))?, schema::LATEST);
    Ok(())
}

#[test]
fn a_database_from_a_newer_version_is_refused_and_left_unchanged() -> Result<()> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(DB_FILE);
    {
        let conn = Connection::open(&path)?;
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")?;
    }
    let before = std::fs::read(&path).expect("read");
    let err = Store::open(&path).map(|_| ()).expect_err("accepted");
    assert!(
        matches!(err, Error::DatabaseNewer { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer"), "{err}");
    assert!(
        std::fs::read(&path).expect("read") == before,
        "the file changed"
    );
    Ok(())
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_then_moved_aside_only_on_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(DB_FILE);
    let junk = b"these are the notes of a rep, not a database".repeat(100);
    std::fs::write(&path, &junk).expect("write");

    let slot = Slot::new(dir.path());
    let err = slot.get().map(|_| ()).expect_err("accepted");
    assert!(matches!(err, Error::DatabaseCorrupt { .. }), "{err}");
    assert!(
        std::fs::read(&path).expect("still there") == junk,
        "the file changed"
    );

    let moved = slot.recover().expect("recover").expect("moved");
    assert!(
        std::fs::read(&moved).expect("kept") == junk,
        "the moved file differs"
    );
    assert!(slot.get().is_ok());
    assert_eq!(slot.recover().expect("healthy"), None);
}

#[test]
fn a_truncated_database_is_refused_and_left_unchanged() -> Result<()> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(DB_FILE);
    {
        let store = Store::open(&path)?;
        import_bytes(&store, small_snapshot().as_bytes())?;
    }
    let whole = std::fs::read(&path).expect("read");
    let cut = &whole[..whole.len() / 2];
    std::fs::write(&path, cut).expect("write");
    let err = Store::open(&path).map(|_| ()).expect_err("accepted");
    assert!(matches!(err, Error::DatabaseCorrupt { .. }), "{err}");
    assert!(
        std::fs::read(&path).expect("read") == cut,
        "the file changed"
    );
    Ok(())
}

#[test]
fn an_unusable_data_folder_is_a_clear_error() {
    // /proc refuses new files even to root, which a chmod-ed folder does not.
    let err = Store::open(Path::new("/proc/self/copilot-data/copilot.db"))
        .map(|_| ())
        .expect_err("accepted");
    assert!(err.to_string().contains("copilot-data"), "{err}");
}

/// Two reps, two products, three customers; C-0001 orders every 90 days.
pub(crate) fn small_snapshot() -> String {
    serde_json::json!({
        "version": 1,
        "reps": [{ "id": "rep-li", "name": "李娜" }],
        "products": [
            { "id": "PM-12", "name_zh": "病人监护仪", "name_en": "Patient monitor" },
            { "id": "IP-3", "name_zh": "输液泵", "name_en": "Infusion pump" }
        ],
        "customers": [
            {
                "id": "C-0001", "name_zh": "杭州市第一人民医院",
                "name_en": "Hangzhou First People's Hospital", "kind": "hospital",
                "city": "杭州", "rep": "rep-li",
                "contacts": [{ "name": "周主任", "role": "设备科主任", "phone": "+86 571 5600 0001" }],
                "purchases": [
                    { "date": "2025-06-02", "product": "PM-12", "quantity": 4, "amount": 120000.0, "currency": "CNY" },
                    { "date": "2025-08-31", "product": "PM-12", "quantity": 2, "amount": 60000.0, "currency": "CNY" },
                    { "date": "2025-11-29", "product": "IP-3", "quantity": 10, "amount": 50000.0, "currency": "CNY" },
                    { "date": "2025-11-29", "product": "PM-12", "quantity": 1, "amount": 30000.0, "currency": "CNY" },
                    { "date": "2026-02-27", "product": "PM-12", "quantity": 1, "amount": 40000.0, "currency": "CNY" }
                ],
                "competitor_contacts": [
                    { "competitor": "Northbridge Medical", "date": "2026-05-20", "channel": "visit" },
                    { "competitor": "康泰医疗", "date": "2026-01-05", "channel": "tender" }
                ]
            },
            { "id": "C-0002", "name_zh": "西湖口腔诊所", "name_en": "West Lake Dental Clinic", "kind": "clinic" },
            { "id": "C-0003", "name_en": "west lake dental clinic", "kind": "clinic" }
        ]
    })
    .to_string()
}

#[test]
fn an_import_twice_changes_nothing_the_second_time() -> Result<()> {
    let (_dir, store) = temp_store();
    let first = import_bytes(&store, small_snapshot().as_bytes())?;
    assert_eq!(
        (first.customers, first.customers_changed, first.purchases),
        (3, 3, 5)
    );
    let before = state(&store);
    let second = import_bytes(&store, small_snapshot().as_bytes())?;
    assert_eq!(second.customers_changed, 0);
    assert_eq!(state(&store), before);
    Ok(())
}

/// Applies `edit` to the small snapshot, imports it over an imported database and checks that
/// it fails at `position` and leaves every row as it was.
fn refused(edit: impl FnOnce(&mut serde_json::Value), position: &str) {
    let (_dir, store) = temp_store();
    import_bytes(&store, small_snapshot().as_bytes()).expect("base import");
    let before = state(&store);
    let mut doc: serde_json::Value = serde_json::from_str(&small_snapshot()).expect("json");
    edit(&mut doc);
    let err = import_bytes(&store, doc.to_string().as_bytes())
        .map(|_| ())
        .expect_err("accepted");
    let message = err.to_string();
    assert!(matches!(err, Error::Snapshot { .. }), "{message}");
    assert!(message.contains(position), "{message} lacks {position}");
    assert!(message.contains("nothing was imported"), "{message}");
    assert_eq!(state(&store), before);
}

type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;

#[test]
fn bad_rows_are_refused_with_their_position_and_nothing_changes() {
    use serde_json::json;
    let p0 = "/customers/0/purchases/0";
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|d| d["customers"][1]["name_zh"] = json!("changed")),
            "unreached",
        ),
        (Box::new(|d| d["customers"][0]["id"] = json!(17)), "line 1"),
        (
            Box::new(|d| {
                d["customers"][2].as_object_mut().map(|o| o.remove("id"));
            }),
            "missing field `id`",
        ),
        (
            Box::new(|d| d["customers"][2]["id"] = json!("C-0001")),
            "customers[2].id",
        ),
        (
            Box::new(|d| d["customers"][2]["id"] = json!("  ")),
            "customers[2].id",
        ),
        (
            Box::new(|d| {
                d["customers"][2]
                    .as_object_mut()
                    .map(|o| {
                        o.remove("name_en");
                    })
                    .unwrap_or(())
            }),
            "customers[2]",
        ),
        (
            Box::new(move |d| {
                d.pointer_mut(p0)
                    .map(|p| p["date"] = json!("2025-02-30"))
                    .unwrap_or(())
            }),
            "customers[0].purchases[0].date",
        ),
        (
            Box::new(move |d| {
                d.pointer_mut(p0)
                    .map(|p| p["amount"] = json!(-5.0))
                    .unwrap_or(())
            }),
            "customers[0].purchases[0].amount",
        ),
        (
            Box::new(move |d| {
                d.pointer_mut(p0)
                    .map(|p| p["amount"] = json!(1e15))
                    .unwrap_or(())
            }),
            "customers[0].purchases[0].amount",
        ),
        (
            Box::new(move |d| {
                d.pointer_mut(p0)
                    .map(|p| p["currency"] = json!("XYZ"))
                    .unwrap_or(())
            }),
            "customers[0].purchases[0].currency",
        ),
        (
            Box::new(move |d| {
                d.pointer_mut(p0)
                    .map(|p| p["quantity"] = json!(0))
                    .unwrap_or(())
            }),
            "customers[0].purchases[0].quantity",
        ),
        (
            Box::new(move |d| {
                d.pointer_mut(p0)
                    .map(|p| p["quantity"] = json!(-3))
                    .unwrap_or(())
            }),
            "line 1",
        ),
        (
            Box::new(move |d| {
                d.pointer_mut(p0)
                    .map(|p| p["product"] = json!("NOPE"))
                    .unwrap_or(())
            }),
            "customers[0].purchases[0].product",
        ),
        (
            Box::new(|d| d["customers"][1]["rep"] = json!("rep-nobody")),
            "customers[1].rep",
        ),
        (
            Box::new(|d| d["customers"][1]["colour"] = json!("red")),
            "unknown field",
        ),
        (Box::new(|d| d["version"] = json!(2)), "version"),
        (
            Box::new(|d| d["products"][1]["id"] = json!("PM-12")),
            "products[1].id",
        ),
    ];
    // The first case changes a valid field and also breaks the last customer, so the valid
    // change must not be kept either.
    let mut cases = cases.into_iter();
    if let Some((edit, _)) = cases.next() {
        refused(
            |d| {
                edit(d);
                d["customers"][2]["id"] = json!("");
            },
            "customers[2].id",
        );
    }
    for (edit, position) in cases {
        refused(edit, position);
    }
}

#[test]
fn malformed_or_non_utf8_documents_are_refused() {
    let (_dir, store) = temp_store();
    for bytes in [
        &b"{\"version\": 1, \"customers\": ["[..],
        b"\xff\xfe{}",
        b"",
        b"[]",
    ] {
        let err = import_bytes(&store, bytes)
            .map(|_| ())
            .expect_err("accepted");
        assert!(matches!(err, Error::Snapshot { .. }), "{err}");
    }
}

#[test]
fn a_200_mb_file_is_refused_before_it_is_read() -> Result<()> {
    let (dir, store) = temp_store();
    let path = dir.path().join("huge.json");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(200 * 1024 * 1024).expect("sparse file");
    let before = state(&store);
    let err = import_file(&store, &path)
        .map(|_| ())
        .expect_err("accepted");
    assert!(err.to_string().contains("MB"), "{err}");
    assert_eq!(state(&store), before);
    Ok(())
}

#[test]
fn a_full_database_fails_the_import_and_keeps_the_old_rows() -> Result<()> {
    let (_dir, store) = temp_store();
    import_bytes(&store, small_snapshot().as_bytes())?;
    let before = state(&store);
    let pages: u32 = lock(&store.writer).query_row("PRAGMA page_count", [], |r| r.get(0))?;
    store.limit_pages(pages)?;
    let big = big_snapshot(2_000);
    let err = import_bytes(&store, big.as_bytes())
        .map(|_| ())
        .expect_err("accepted");
    assert!(err.to_string().contains("full"), "{err}");
    assert_eq!(state(&store), before);
    Ok(())
}

#[test]
fn readers_see_an_import_entirely_or_not_at_all() -> Result<()> {
    let (_dir, store) = temp_store();
    import_bytes(&store, small_snapshot().as_bytes())?;
    let big = big_snapshot(2_000);
    let count = |store: &Store| -> Result<i64> {
        store.read(|c| {
            let purchases: i64 = c.query_row("SELECT count(*) FROM purchases", [], |r| r.get(0))?;
            let customers: i64 = c.query_row("SELECT count(*) FROM customers", [], |r| r.get(0))?;
            assert!(
                matches!((customers, purchases), (3, 5) | (2_003, 20_005)),
                "{customers} {purchases}"
            );
            Ok(purchases)
        })
    };
    let seen = std::thread::scope(|s| {
        let importer = s.spawn(|| import_bytes(&store, big.as_bytes()));
        let mut seen = std::collections::BTreeSet::new();
        while !importer.is_finished() {
            seen.insert(count(&store)?);
        }
        importer.join().expect("importer panicked")?;
        seen.insert(count(&store)?);
        Ok::<_, Error>(seen)
    })?;
    assert!(seen.contains(&20_005));
    Ok(())
}

/// A snapshot of `customers` customers with ten purchases each.
fn big_snapshot(customers: usize) -> String {
    let purchases: Vec<serde_json::Value> = (1..=10)
        .map(|m| {
            serde_json::json!({ "date": format!("2025-{m:02}-15"), "product": "PM-12",
                "quantity": 1, "amount": 1000.0 * m as f64, "currency": "CNY" })
        })
        .collect();
    let rows: Vec<serde_json::Value> = (0..customers)
        .map(|i| {
            serde_json::json!({ "id": format!("B-{i}"), "name_en": format!("Clinic {i}"),
            "purchases": purchases })
        })
        .collect();
    serde_json::json!({ "version": 1, "customers": rows }).to_string()
}

#[test]
fn the_card_shows_cycles_trend_overdue_competitors_and_open_items() -> Result<()> {
    let (_dir, store) = temp_store();
    import_bytes(&store, small_snapshot().as_bytes())?;
    let note = testing::note("n1", Some("C-0001"), "2026-05-02T10:00:00+08:00");
    save_note(&store, &note)?;

    let card = customer_card(&store, "C-0001", Some("2026-06-30"))?;
    let intervals: Vec<u32> = card
        .purchase_cycles
        .iter()
        .map(|c| c.interval_days)
        .collect();
    assert_eq!(intervals, [90, 90, 90]);
    let amounts: Vec<f64> = card.purchase_cycles.iter().map(|c| c.amount).collect();
    assert_eq!(amounts, [60000.0, 80000.0, 40000.0]);
    assert_eq!(card.amount_trend, Trend::Falling);
    assert_eq!(card.interval_trend, Trend::Steady);
    assert_eq!(card.next_expected_date.as_deref(), Some("2026-05-28"));
    assert!(card.overdue);
    assert_eq!(card.days_overdue, 33);
    assert_eq!(
        card.competitor_contacts.len(),
        1,
        "only the contact within 90 days"
    );
    assert_eq!(card.open_objections[0].objection_type, "price_too_high");
    assert!(!card.open_commitments[0].overdue, "due 2026-12-10");

    let earlier = customer_card(&store, "C-0001", Some("2026-01-10"))?;
    assert_eq!(earlier.purchase_cycles.len(), 2);
    assert!(!earlier.overdue);
    assert_eq!(earlier.competitor_contacts[0].competitor, "康泰医疗");
    Ok(())
}

#[test]
fn cards_are_found_by_chinese_or_english_name_and_ambiguity_is_an_error() -> Result<()> {
    let (_dir, store) = temp_store();
    import_bytes(&store, small_snapshot().as_bytes())?;
    assert_eq!(
        customer_card(&store, "杭州市第一人民医院", None)?
            .customer
            .id,
        "C-0001"
    );
    assert_eq!(
        customer_card(&store, "HANGZHOU first people's hospital", None)?
            .customer
            .id,
        "C-0001"
    );
    let unknown = customer_card(&store, "Nobody", None)
        .map(|_| ())
        .expect_err("accepted");
    assert!(matches!(unknown, Error::NotFound(_)));
    let twice = customer_card(&store, "West Lake Dental Clinic", None)
        .map(|_| ())
        .expect_err("accepted");
    assert!(matches!(twice, Error::InvalidInput(_)), "{twice}");
    let card = customer_card(&store, "C-0002", None)?;
    assert_eq!(card.amount_trend, Trend::Unknown);
    assert!(card.purchase_cycles.is_empty());
    Ok(())
}
