//! The customer store at scale: import time, database size, and how long a customer card takes
//! with 10,000 customers and 1,000,000 purchases (target: p95 under 2 ms).
//!
//! usage: cargo run --release -p copilot-bench --bin store-bench [-- CUSTOMERS PURCHASES]
//!
//! The snapshot is generated into a temporary folder (about 90 MB) and removed afterwards.

use copilot_bench::customers::{generate, Rng, Shape, END_2026_11_30};
use copilot_bench::models_dir;
use copilot_core::{Engine, EngineConfig};
use std::path::Path;
use std::time::{Duration, Instant};

const LOOKUPS: usize = 10_000;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted
        .get(index)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

fn file_mb(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6)
}

fn time_cards(
    engine: &Engine,
    queries: &[String],
) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(queries.len());
    for query in queries {
        let t = Instant::now();
        let card = engine.customer_card(query.clone(), Some("2026-12-01".into()))?;
        times.push(t.elapsed());
        std::hint::black_box(card);
    }
    times.sort();
    Ok(times)
}

fn report(label: &str, times: &[Duration]) {
    println!(
        "{label:<28} n={:<6} p50 {:.3} ms  p95 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
        times.len(),
        percentile(times, 0.50),
        percentile(times, 0.95),
        percentile(times, 0.99),
        percentile(times, 1.0)
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let customers = args.first().copied().unwrap_or(10_000);
    let purchases = args.get(1).copied().unwrap_or(1_000_000);
    let work = std::env::temp_dir().join(format!("copilot-store-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;

    let t = Instant::now();
    let shape = Shape {
        customers,
        purchases,
        end_day: END_2026_11_30,
        years: 2,
        seed: 42,
    };
    let snapshot = generate(&shape);
    let file = work.join("snapshot.json");
    serde_json::to_writer(
        std::io::BufWriter::new(std::fs::File::create(&file)?),
        &snapshot,
    )?;
    println!(
        "snapshot: {customers} customers, {purchases} purchases, {:.1} MB, generated in {:.1} s",
        file_mb(&file),
        t.elapsed().as_secs_f64()
    );

    let data = work.join("data");
    let engine = Engine::new(EngineConfig {
        models_dir: models_dir().display().to_string(),
        data_dir: data.display().to_string(),
    })?;
    let t = Instant::now();
    let summary = engine.import_snapshot(file.display().to_string())?;
    println!(
        "import: {:.2} s ({} customers changed)",
        t.elapsed().as_secs_f64(),
        summary.customers_changed
    );
    let t = Instant::now();
    let again = engine.import_snapshot(file.display().to_string())?;
    println!(
        "same file again: {:.2} s ({} customers changed)",
        t.elapsed().as_secs_f64(),
        again.customers_changed
    );
    let db = data.join("copilot.db");
    println!(
        "database: {:.1} MB (+ WAL {:.1} MB)",
        file_mb(&db),
        file_mb(&data.join("copilot.db-wal"))
    );

    let mut rng = Rng::new(7);
    let pick = |rng: &mut Rng| &snapshot.customers[rng.below(customers as u64) as usize];
    let ids: Vec<String> = (0..LOOKUPS).map(|_| pick(&mut rng).id.clone()).collect();
    let zh: Vec<String> = (0..LOOKUPS / 5)
        .map(|_| pick(&mut rng).name_zh.clone())
        .collect();
    let en: Vec<String> = (0..LOOKUPS / 5)
        .map(|_| pick(&mut rng).name_en.to_uppercase())
        .collect();
    time_cards(&engine, &ids[..100])?; // warm the page cache and the statement caches
    report("card by id", &time_cards(&engine, &ids)?);
    report("card by Chinese name", &time_cards(&engine, &zh)?);
    report(
        "card by English name (any case)",
        &time_cards(&engine, &en)?,
    );

    drop(engine);
    std::fs::remove_dir_all(&work)?;
    Ok(())
}
