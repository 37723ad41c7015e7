//! Eight threads write notes and feedback while eight read cards: no error may reach a caller,
//! and every write must be counted once in its table and once in the outbox.

use super::notes::testing;
use super::tests::{small_snapshot, temp_store};
use super::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

const THREADS: usize = 8;
const RUN_FOR: Duration = Duration::from_secs(3);

fn writer(store: &Store, thread: usize, stop: &AtomicBool) -> (i64, i64) {
    let (mut notes, mut feedback) = (0, 0);
    while !stop.load(Ordering::Relaxed) {
        let id = format!("w{thread}-{notes}");
        let note = testing::note(&id, Some("C-0001"), "2026-12-01T10:00:00+08:00");
        save_note(store, &note).expect("a writer got an error");
        notes += 1;
        record_feedback(store, &testing::feedback(&format!("rep-{thread}")))
            .expect("a writer got an error");
        feedback += 1;
    }
    (notes, feedback)
}

fn reader(store: &Store, stop: &AtomicBool) -> u64 {
    let mut cards = 0;
    while !stop.load(Ordering::Relaxed) {
        let card =
            customer_card(store, "C-0001", Some("2026-12-04")).expect("a reader got an error");
        assert_eq!(card.purchase_cycles.len(), 3);
        cards += 1;
    }
    cards
}

#[test]
fn eight_writers_and_eight_readers_never_see_an_error() -> Result<()> {
    let (_dir, store) = temp_store();
    import_bytes(&store, small_snapshot().as_bytes())?;
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (store, stop) = (&store, &stop);
    let (written, cards) = std::thread::scope(|s| {
        let writers: Vec<_> = (0..THREADS)
            .map(|t| s.spawn(move || writer(store, t, stop)))
            .collect();
        let readers: Vec<_> = (0..THREADS)
            .map(|_| s.spawn(move || reader(store, stop)))
            .collect();
        std::thread::sleep(RUN_FOR);
        stop.store(true, Ordering::Relaxed);
        let written: Vec<(i64, i64)> = writers
            .into_iter()
            .map(|h| h.join().expect("writer panicked"))
            .collect();
        let cards: u64 = readers
            .into_iter()
            .map(|h| h.join().expect("reader panicked"))
            .sum();
        (written, cards)
    });
    let notes: i64 = written.iter().map(|w| w.0).sum();
    let feedback: i64 = written.iter().map(|w| w.1).sum();
    let counts: (i64, i64, i64) = store.read(|c| {
        Ok(c.query_row(
            "SELECT (SELECT count(*) FROM call_notes), (SELECT count(*) FROM suggestion_feedback), \
             (SELECT count(*) FROM outbox)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    })?;
    assert_eq!(counts, (notes, feedback, notes + feedback));
    assert!(notes > 0 && cards > 0);
    eprintln!(
        "{notes} notes, {feedback} feedback events, {cards} cards in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[test]
fn two_engines_on_one_file_wait_for_each_other_instead_of_failing() -> Result<()> {
    // Two stores stand for the app and the desktop command holding the file at once: only the
    // file lock and busy_timeout keep them apart.
    let (dir, first) = temp_store();
    let second = Store::open(&dir.path().join(DB_FILE))?;
    let stop = AtomicBool::new(false);
    let (first, second, stop) = (&first, &second, &stop);
    let written: i64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| s.spawn(move || writer(if t % 2 == 0 { first } else { second }, t, stop)))
            .collect();
        std::thread::sleep(Duration::from_secs(1));
        stop.store(true, Ordering::Relaxed);
        handles
            .into_iter()
            .map(|h| h.join().expect("writer panicked").0)
            .sum()
    });
    let notes: i64 =
        second.read(|c| Ok(c.query_row("SELECT count(*) FROM call_notes", [], |r| r.get(0))?))?;
    assert_eq!(notes, written);
    Ok(())
}
