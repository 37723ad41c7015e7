//! Writes a generated customer snapshot to stdout.
//!
//! usage: cargo run --release -p copilot-bench --bin customers-gen -- CUSTOMERS PURCHASES [SEED] [--pretty]
//!
//! `fixtures/customers/distributor.json` is `customers-gen 12 200 7 --pretty`.

use copilot_bench::customers::{generate, Shape, END_2026_11_30};
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pretty = args.iter().any(|a| a == "--pretty");
    let numbers: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let [customers, purchases, rest @ ..] = numbers.as_slice() else {
        return Err("usage: customers-gen CUSTOMERS PURCHASES [SEED] [--pretty]".into());
    };
    let shape = Shape {
        customers: *customers as usize,
        purchases: *purchases as usize,
        end_day: END_2026_11_30,
        years: 2,
        seed: rest.first().copied().unwrap_or(1),
    };
    let snapshot = generate(&shape);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if pretty {
        serde_json::to_writer_pretty(&mut out, &snapshot)?;
    } else {
        serde_json::to_writer(&mut out, &snapshot)?;
    }
    writeln!(out)?;
    Ok(())
}
