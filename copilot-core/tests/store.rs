//! The customer history through the exported engine, as the apps use it: import the fixture
//! snapshot, read cards by id and by name, drain the outbox, recover a damaged database.

use copilot_core::{CopilotError, Engine, EngineConfig, Trend};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/customers/distributor.json")
        .display()
        .to_string()
}

fn engine(data: &Path) -> Arc<Engine> {
    Engine::new(EngineConfig {
        models_dir: "models".into(),
        data_dir: data.display().to_string(),
    })
    .expect("engine")
}

#[test]
fn the_fixture_imports_once_and_cards_read_by_id_and_by_either_name() {
    let data = tempfile::tempdir().expect("temp dir");
    let engine = engine(data.path());
    let first = engine.import_snapshot(fixture()).expect("import");
    assert_eq!(
        (first.customers, first.customers_changed, first.purchases),
        (12, 12, 200)
    );
    assert_eq!(
        engine
            .import_snapshot(fixture())
            .expect("again")
            .customers_changed,
        0
    );

    let card = engine
        .customer_card("C-00003".into(), Some("2026-12-01".into()))
        .expect("card");
    assert_eq!(card.purchase_cycles.len(), 3);
    assert_ne!(card.amount_trend, Trend::Unknown);
    let zh = card.customer.name_zh.clone().expect("Chinese name");
    let en = card.customer.name_en.clone().expect("English name");
    for name in [zh, en.to_lowercase()] {
        let again = engine
            .customer_card(name, Some("2026-12-01".into()))
            .expect("by name");
        assert_eq!(again, card);
    }
}

#[test]
fn unknown_customers_and_bad_dates_are_clear_errors() {
    let data = tempfile::tempdir().expect("temp dir");
    let engine = engine(data.path());
    engine.import_snapshot(fixture()).expect("import");
    let missing = engine.customer_card("C-99999".into(), None);
    assert!(matches!(missing, Err(CopilotError::NotFound { .. })));
    let bad_date = engine.customer_card("C-00001".into(), Some("2026-13-01".into()));
    assert!(matches!(bad_date, Err(CopilotError::InvalidInput { .. })));
}

#[test]
fn the_outbox_starts_empty_and_acknowledging_unknown_ids_is_harmless() {
    let data = tempfile::tempdir().expect("temp dir");
    let engine = engine(data.path());
    assert!(engine.outbox_pending(10).expect("pending").is_empty());
    assert_eq!(
        engine.outbox_acknowledge(vec!["nope".into()]).expect("ack"),
        0
    );
}

#[test]
fn a_damaged_database_is_reported_then_moved_aside_when_the_app_asks() {
    let data = tempfile::tempdir().expect("temp dir");
    let db: PathBuf = data.path().join("copilot.db");
    std::fs::write(&db, vec![0x5a; 8192]).expect("write");
    let engine = engine(data.path());
    let refused = engine.import_snapshot(fixture());
    assert!(
        matches!(refused, Err(CopilotError::CorruptDatabase { .. })),
        "{refused:?}"
    );
    let moved = engine.recover_database().expect("recover").expect("moved");
    assert_eq!(std::fs::read(&moved).expect("kept"), vec![0x5a; 8192]);
    engine
        .import_snapshot(fixture())
        .expect("import into the fresh database");
}
