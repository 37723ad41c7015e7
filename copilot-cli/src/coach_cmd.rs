//! The coach's subcommands: `feedback` records a suggestion's fate and `breaker` shows or
//! resets a rep's circuit breakers, so the breaker can be driven from a shell.

use anyhow::{bail, Result};
use clap::Subcommand;
use copilot_core::{BreakerState, Engine, SuggestionFate};

/// Coaching commands.
#[derive(Subcommand)]
pub enum CoachCommand {
    /// Record a rep's reaction to a suggestion (shown, used, edited, deleted).
    Feedback {
        #[arg(long)]
        rep: String,
        #[arg(long)]
        suggestion: String,
        #[arg(long)]
        fate: String,
        #[arg(long)]
        json: bool,
    },
    /// Show a rep's circuit breakers, or reset one scenario (a manager's reset).
    Breaker {
        #[arg(long)]
        rep: String,
        /// Close this frozen scenario at once.
        #[arg(long)]
        reset: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// Runs one coaching subcommand.
pub fn run(engine: &Engine, command: CoachCommand) -> Result<bool> {
    match command {
        CoachCommand::Feedback {
            rep,
            suggestion,
            fate,
            json,
        } => {
            let outcome = engine.record_feedback(rep, suggestion, parse_fate(&fate)?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&outcome)?);
            } else {
                let note = if outcome.recorded {
                    "recorded"
                } else {
                    "already recorded"
                };
                println!("{} {} ({note})", outcome.suggestion_id, fate);
                print_breaker(&outcome.breaker);
            }
        }
        CoachCommand::Breaker { rep, reset, json } => {
            let states = match reset {
                Some(scenario) => vec![engine.reset_breaker(rep, scenario)?],
                None => engine.breaker_states(rep)?,
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&states)?);
            } else {
                states.iter().for_each(print_breaker);
            }
        }
    }
    Ok(true)
}

fn parse_fate(text: &str) -> Result<SuggestionFate> {
    Ok(match text {
        "shown" => SuggestionFate::Shown,
        "used" => SuggestionFate::Used,
        "edited" => SuggestionFate::Edited,
        "deleted" => SuggestionFate::Deleted,
        other => bail!("'{other}' is not a fate: use shown, used, edited or deleted"),
    })
}

fn print_breaker(b: &BreakerState) {
    let until = b
        .half_open_at
        .as_deref()
        .map_or(String::new(), |t| format!(" until {t}"));
    println!(
        "{:<20} {:?}{until} (deleted in a row: {})",
        b.scenario, b.state, b.deleted_in_row
    );
}
