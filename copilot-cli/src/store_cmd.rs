//! The store's subcommands: `import`, `card`, `outbox`, `ack` and `recover-db`.
//!
//! Kept apart from `main.rs` so the commands of each part of the core stay in their own file.

use anyhow::Result;
use clap::Subcommand;
use copilot_core::{CustomerCard, Engine};
use std::path::PathBuf;

/// Customer history and outbox commands.
#[derive(Subcommand)]
pub enum StoreCommand {
    /// Load a customer snapshot (JSON, see fixtures/customers/README.md) in one transaction.
    Import {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Print a customer's card: purchase cycles, competitor contacts, open items.
    Card {
        /// The customer's id, Chinese name or English name.
        customer: String,
        #[arg(long)]
        json: bool,
        /// Compute the card as of this date (YYYY-MM-DD; default today).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// List outbox records waiting to be delivered, oldest first.
    Outbox {
        #[arg(long)]
        json: bool,
        /// At most this many records.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Acknowledge delivered outbox records by id.
    Ack {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Move a damaged database aside (never deleting it) and start an empty one.
    RecoverDb,
}

/// Runs one store subcommand.
pub fn run(engine: &Engine, command: StoreCommand) -> Result<bool> {
    match command {
        StoreCommand::Import { file, json } => {
            let summary = engine.import_snapshot(file.display().to_string())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                println!(
                    "imported {} customers ({} new or changed), {} purchases",
                    summary.customers, summary.customers_changed, summary.purchases
                );
            }
        }
        StoreCommand::Card {
            customer,
            json,
            as_of,
        } => {
            let card = engine.customer_card(customer, as_of)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&card)?);
            } else {
                print_card(&card);
            }
        }
        StoreCommand::Outbox { json, limit } => {
            let records = engine.outbox_pending(limit)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&records)?);
            } else {
                for r in &records {
                    println!("{}  {:<20} {}", r.id, r.kind, r.created_at);
                }
            }
        }
        StoreCommand::Ack { ids } => {
            let count = engine.outbox_acknowledge(ids)?;
            println!("acknowledged {count} records");
        }
        StoreCommand::RecoverDb => match engine.recover_database()? {
            Some(moved) => println!("the damaged database was moved to {moved}"),
            None => println!("the database is healthy; nothing was moved"),
        },
    }
    Ok(true)
}

fn print_card(card: &CustomerCard) {
    let c = &card.customer;
    let names = [c.name_zh.as_deref(), c.name_en.as_deref()];
    let names: Vec<&str> = names.into_iter().flatten().collect();
    println!("{}  {}  (as of {})", c.id, names.join(" / "), card.as_of);
    for cycle in &card.purchase_cycles {
        println!(
            "  {} -> {}  {:>4} days  {:>12.2} {}",
            cycle.from_date, cycle.to_date, cycle.interval_days, cycle.amount, cycle.currency
        );
    }
    println!(
        "  amounts {:?}, intervals {:?}, next expected {}{}",
        card.amount_trend,
        card.interval_trend,
        card.next_expected_date.as_deref().unwrap_or("-"),
        if card.overdue {
            format!(", {} days overdue", card.days_overdue)
        } else {
            String::new()
        }
    );
    for contact in &card.competitor_contacts {
        println!("  competitor {} on {}", contact.competitor, contact.date);
    }
    for o in &card.open_objections {
        println!(
            "  open objection {} ({})",
            o.objection_type, o.call_started_at
        );
    }
    for c in &card.open_commitments {
        println!(
            "  open commitment: {} (due {})",
            c.what,
            c.due_date.as_deref().unwrap_or("-")
        );
    }
}
