//! The SIGKILL test: a child process writes notes and acknowledges outbox records while the
//! parent kills it at random moments, then checks that nothing acknowledged was lost.
//!
//! The child is this same test binary, started with `--exact` on an ignored test that does
//! nothing unless the parent's environment variable names a database.

use super::notes::testing;
use super::*;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

const CHILD_ENV: &str = "COPILOT_CRASH_CHILD_DB";
const CHILD_TEST: &str = "store::crash_tests::crash_child";
const ROUNDS: usize = 220;

#[test]
#[ignore = "the child process of killed_writers_lose_nothing; does nothing when run alone"]
fn crash_child() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let store = Store::open(Path::new(&path)).expect("the child opens the database");
    let start: i64 = store
        .read(|c| Ok(c.query_row("SELECT count(*) FROM call_notes", [], |r| r.get(0))?))
        .expect("count");
    let mut out = std::io::stdout().lock();
    for i in start.. {
        let note = testing::note(&format!("n{i}"), None, "2026-12-01T10:00:00+08:00");
        save_note(&store, &note).expect("save");
        writeln!(out, "saved n{i}")
            .and_then(|()| out.flush())
            .expect("stdout");
        if i % 3 == 0 {
            let ids: Vec<String> = outbox_pending(&store, 2)
                .expect("pending")
                .into_iter()
                .map(|r| r.id)
                .collect();
            outbox_acknowledge(&store, &ids).expect("ack");
            for id in ids {
                writeln!(out, "acked {id}").expect("stdout");
            }
            out.flush().expect("stdout");
        }
    }
}

/// A small xorshift generator: the test needs varied delays, not strong randomness.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Runs the child until a random moment, kills it, and returns what it reported as done.
fn run_and_kill(db: &Path, delay: Duration) -> Vec<String> {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args([
            "--exact",
            CHILD_TEST,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(std::io::Result::ok)
            .collect::<Vec<_>>()
    });
    std::thread::sleep(delay);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    reader.join().expect("reader")
}

fn verify(db: &Path, saved: &HashSet<String>, acked: &HashSet<String>, deep: bool) {
    let store = Store::open(db).expect("the database opens after every kill");
    store
        .read(|c| {
            let ids = |sql: &str| -> rusqlite::Result<HashSet<String>> {
                c.prepare(sql)?.query_map([], |r| r.get(0))?.collect()
            };
            let notes = ids("SELECT id FROM call_notes")?;
            assert!(saved.is_subset(&notes), "a saved note was lost");
            let delivered = ids("SELECT id FROM outbox WHERE acked_at IS NOT NULL")?;
            assert!(
                acked.is_subset(&delivered),
                "an acknowledged record came back"
            );
            let unmatched: i64 = c.query_row(
                "SELECT count(*) FROM call_notes n LEFT JOIN (\
                   SELECT json_extract(payload, '$.note_id') AS note_id, count(*) AS events \
                   FROM outbox GROUP BY 1) o ON o.note_id = n.id \
                 WHERE o.events IS NOT 1",
                [],
                |r| r.get(0),
            )?;
            assert_eq!(unmatched, 0, "a note without exactly one outbox record");
            let events: i64 = c.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
            let notes: i64 = c.query_row("SELECT count(*) FROM call_notes", [], |r| r.get(0))?;
            assert_eq!(events, notes, "an outbox record without its note");
            if deep {
                let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
                assert_eq!(check, "ok");
            }
            Ok(())
        })
        .expect("verify");
}

#[test]
fn killed_writers_lose_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join(DB_FILE);
    let mut seed = date::unix_millis() as u64 | 1;
    let (mut saved, mut acked) = (HashSet::new(), HashSet::new());
    let (started, mut mid_work) = (Instant::now(), 0);
    for round in 0..ROUNDS {
        let delay = Duration::from_millis(5 + next_random(&mut seed) % 60);
        let lines = run_and_kill(&db, delay);
        mid_work += usize::from(!lines.is_empty());
        for line in lines {
            if let Some(id) = line.strip_prefix("saved ") {
                saved.insert(id.to_string());
            } else if let Some(id) = line.strip_prefix("acked ") {
                acked.insert(id.to_string());
            }
        }
        verify(&db, &saved, &acked, round % 50 == 0 || round + 1 == ROUNDS);
    }
    assert!(
        saved.len() > ROUNDS,
        "the children wrote too little to test anything"
    );
    assert!(!acked.is_empty());
    eprintln!(
        "{ROUNDS} kills ({mid_work} after the child had written), {} notes saved, {} records acknowledged, {:.1} s",
        saved.len(),
        acked.len(),
        started.elapsed().as_secs_f64()
    );
}
