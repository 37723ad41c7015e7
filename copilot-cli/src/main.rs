//! `copilot`: the desktop command over the copilot core.
//!
//! It sees only the library's exported surface, as the apps do. Output is JSON with `--json`
//! and plain text for a person without it; errors are one sentence on stderr and exit code 1.

use anyhow::Result;
use clap::{Parser, Subcommand};
use copilot_core::{Engine, EngineConfig, ModelState, ModelStatus, TranscribeOptions, Transcript};
use std::path::PathBuf;
use std::process::ExitCode;

mod coach_cmd;
mod note_cmd;
mod store_cmd;
mod understand;

#[derive(Parser)]
#[command(name = "copilot", version, about = "On-device sales copilot")]
struct Cli {
    /// The models folder (default: `models/` of this checkout).
    #[arg(long, global = true, env = "COPILOT_MODELS")]
    models: Option<PathBuf>,
    /// The data folder (default: the platform's data folder).
    #[arg(long, global = true, env = "COPILOT_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the models of the manifest with their path, size and state.
    Models {
        #[arg(long)]
        json: bool,
    },
    /// Transcribe a recording.
    Transcribe {
        audio: PathBuf,
        #[arg(long)]
        json: bool,
        /// The ASR model by its manifest name.
        #[arg(long, default_value = "whisper-base")]
        asr_model: String,
        /// The weight variant: f16 or q8_0.
        #[arg(long, default_value = "f16")]
        variant: String,
        /// The language code (`en`, `zh`); detected when absent.
        #[arg(long)]
        language: Option<String>,
        /// Decoding threads (default: the cores that are free now).
        #[arg(long)]
        threads: Option<u32>,
    },
    /// Write the structured note of a recorded call or a `.txt` transcript.
    Note(note_cmd::NoteArgs),
    #[command(flatten)]
    Store(store_cmd::StoreCommand),
    #[command(flatten)]
    Coach(coach_cmd::CoachCommand),
    // Understanding utterances (issue 4).
    /// Classify one utterance per stdin line (optionally prefixed `rep:` or `customer:`).
    Classify {
        #[arg(long)]
        json: bool,
        /// A lexicon file to use instead of the default one.
        #[arg(long)]
        lexicon: Option<PathBuf>,
    },
    /// Score the classifier on a labelled file (language, intent, objection, text[, previous]).
    Eval {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        lexicon: Option<PathBuf>,
        /// Exit with failure when any language's objection macro-F1 is below this.
        #[arg(long)]
        min_objection_f1: Option<f64>,
        /// Exit with failure when any language's intent accuracy is below this.
        #[arg(long)]
        min_intent_accuracy: Option<f64>,
    },
}

fn default_models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// `$XDG_DATA_HOME/copilot`, else `~/.local/share/copilot`, else `./copilot-data`.
fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("copilot");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/copilot"),
        None => PathBuf::from("copilot-data"),
    }
}

fn engine(cli: &Cli) -> Result<std::sync::Arc<Engine>> {
    let models = cli.models.clone().unwrap_or_else(default_models_dir);
    let data = cli.data_dir.clone().unwrap_or_else(default_data_dir);
    Ok(Engine::new(EngineConfig {
        models_dir: models.display().to_string(),
        data_dir: data.display().to_string(),
    })?)
}

fn print_models(statuses: &[ModelStatus], json: bool) -> Result<bool> {
    let all_ok = statuses
        .iter()
        .all(|s| s.state == ModelState::Ok || (s.optional && s.state == ModelState::Missing));
    if json {
        println!("{}", serde_json::to_string_pretty(statuses)?);
        return Ok(all_ok);
    }
    for s in statuses {
        let size = s
            .size_bytes
            .map_or("-".to_string(), |b| format!("{:.1} MB", b as f64 / 1e6));
        let state = match s.state {
            ModelState::Ok => "ok",
            ModelState::Missing if s.optional => "missing (optional)",
            ModelState::Missing => "missing",
            ModelState::Mismatch => "mismatch",
        };
        println!(
            "{:<16} {:<6} {:>9}  {:<20} {}",
            s.model,
            s.variant.as_deref().unwrap_or("-"),
            size,
            state,
            s.path
        );
        if let Some(reason) = &s.reason {
            println!("{:>24}{reason}", "");
        }
    }
    Ok(all_ok)
}

fn print_transcript(t: &Transcript, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(t)?);
    } else {
        for s in &t.segments {
            println!("[{:>7.2} - {:>7.2}] {}", s.start_s, s.end_s, s.text);
        }
    }
    Ok(())
}

fn run(cli: Cli) -> Result<bool> {
    let engine = engine(&cli)?;
    match cli.command {
        Command::Models { json } => print_models(&engine.model_status(), json),
        Command::Transcribe {
            audio,
            json,
            asr_model,
            variant,
            language,
            threads,
        } => {
            let options = TranscribeOptions {
                asr_model,
                variant: Some(variant),
                language,
                threads,
                script: None,
            };
            let transcript = engine.transcribe_file(audio.display().to_string(), options)?;
            print_transcript(&transcript, json)?;
            Ok(true)
        }
        Command::Note(args) => note_cmd::run(&engine, args),
        Command::Store(command) => store_cmd::run(&engine, command),
        Command::Coach(command) => coach_cmd::run(&engine, command),
        Command::Classify { json, lexicon } => {
            load_lexicon(&engine, lexicon)?;
            understand::classify_stdin(&engine, json)?;
            Ok(true)
        }
        Command::Eval {
            file,
            json,
            lexicon,
            min_objection_f1,
            min_intent_accuracy,
        } => {
            load_lexicon(&engine, lexicon)?;
            let floors = understand::Floors {
                objection_macro_f1: min_objection_f1,
                intent_accuracy: min_intent_accuracy,
            };
            understand::eval(&engine, &file, &floors, json)
        }
    }
}

fn load_lexicon(engine: &Engine, lexicon: Option<PathBuf>) -> Result<()> {
    if let Some(path) = lexicon {
        engine.load_lexicon(path.display().to_string())?;
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .init();
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
