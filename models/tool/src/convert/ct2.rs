//! Reader for CTranslate2's `model.bin` (binary version 6), as the Whisper packages ship it.
//!
//! The layout: a u32 binary version, the spec name and a u32 spec revision, a u32 count of
//! variables, then each variable as name, u8 rank, u32 dims, u8 dtype, u32 byte count and the
//! bytes; then a u32 count of aliases, each an alias name and the variable it names. Strings are
//! a u16 length (counting a trailing NUL) followed by the bytes. Everything is little-endian.
//! Variables borrow from the file's bytes: nothing is copied until a converter needs it.

use anyhow::{bail, ensure, Context, Result};
use std::collections::BTreeMap;

/// The element types CTranslate2 writes, by their numbers in its `DataType` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl Dtype {
    fn from_id(id: u8) -> Result<Dtype> {
        Ok(match id {
            0 => Dtype::F32,
            1 => Dtype::I8,
            2 => Dtype::I16,
            3 => Dtype::I32,
            4 => Dtype::F16,
            5 => Dtype::BF16,
            other => bail!("unknown CTranslate2 dtype id {other}"),
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::I8 => 1,
            Dtype::I16 | Dtype::F16 | Dtype::BF16 => 2,
            Dtype::F32 | Dtype::I32 => 4,
        }
    }
}

/// One named tensor of the model.
#[derive(Debug, Clone)]
pub struct Variable<'a> {
    pub shape: Vec<usize>,
    pub dtype: Dtype,
    pub data: &'a [u8],
}

impl Variable<'_> {
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// The values as f32, for float variables.
    pub fn to_f32(&self) -> Result<Vec<f32>> {
        match self.dtype {
            Dtype::F32 => Ok(self
                .data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()),
            Dtype::F16 => Ok(self
                .data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect()),
            Dtype::BF16 => Ok(self
                .data
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect()),
            other => bail!("a {other:?} variable is not a float tensor"),
        }
    }

    /// A scalar integer (CTranslate2 stores flags and head counts this way).
    pub fn to_int(&self) -> Result<i64> {
        ensure!(self.elements() == 1, "variable is not a scalar");
        Ok(match (self.dtype, self.data) {
            (Dtype::I8, [a]) => i64::from(*a as i8),
            (Dtype::I16, [a, b]) => i64::from(i16::from_le_bytes([*a, *b])),
            (Dtype::I32, [a, b, c, d]) => i64::from(i32::from_le_bytes([*a, *b, *c, *d])),
            _ => bail!("variable is not an integer scalar"),
        })
    }
}

/// A parsed `model.bin`.
#[derive(Debug)]
pub struct Ct2Model<'a> {
    pub spec: String,
    pub revision: u32,
    pub variables: BTreeMap<String, Variable<'a>>,
    pub aliases: BTreeMap<String, String>,
}

impl<'a> Ct2Model<'a> {
    /// Parses the whole file; every length is checked against what is left of the input.
    pub fn parse(bytes: &'a [u8]) -> Result<Ct2Model<'a>> {
        let mut cur = Cursor { bytes, pos: 0 };
        let version = cur.u32()?;
        ensure!(
            version == 6,
            "CTranslate2 model binary version {version} is not supported (expected 6)"
        );
        let spec = cur.string()?;
        let revision = cur.u32()?;
        let count = cur.u32()?;
        let mut variables = BTreeMap::new();
        for _ in 0..count {
            let (name, var) = read_variable(&mut cur)?;
            variables.insert(name, var);
        }
        let mut aliases = BTreeMap::new();
        for _ in 0..cur.u32()? {
            let alias = cur.string()?;
            aliases.insert(alias, cur.string()?);
        }
        ensure!(
            cur.pos == bytes.len(),
            "model.bin has trailing bytes after its aliases"
        );
        Ok(Ct2Model {
            spec,
            revision,
            variables,
            aliases,
        })
    }

    /// The variable of that name, following an alias if there is one.
    pub fn get(&self, name: &str) -> Result<&Variable<'a>> {
        let target = self.aliases.get(name).map(String::as_str).unwrap_or(name);
        self.variables
            .get(target)
            .with_context(|| format!("model.bin has no variable '{name}'"))
    }
}

fn read_variable<'a>(cur: &mut Cursor<'a>) -> Result<(String, Variable<'a>)> {
    let name = cur.string()?;
    let rank = cur.u8()?;
    let shape = (0..rank)
        .map(|_| cur.u32().map(|d| d as usize))
        .collect::<Result<Vec<_>>>()?;
    let dtype = Dtype::from_id(cur.u8()?).with_context(|| format!("variable '{name}'"))?;
    let nbytes = cur.u32()? as usize;
    let expected = shape
        .iter()
        .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
        .with_context(|| format!("variable '{name}' has an impossibly large shape"))?;
    ensure!(
        nbytes == expected,
        "variable '{name}' holds {nbytes} bytes but its shape {shape:?} of {dtype:?} needs {expected}"
    );
    let data = cur
        .take(nbytes)
        .with_context(|| format!("variable '{name}'"))?;
    Ok((name, Variable { shape, dtype, data }))
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            bail!("model.bin is truncated at byte {}", self.pos);
        };
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> Result<String> {
        let len = usize::from(self.u16()?);
        let raw = self.take(len)?;
        let text = raw.strip_suffix(&[0]).unwrap_or(raw);
        String::from_utf8(text.to_vec()).context("a name in model.bin is not UTF-8")
    }
}

/// Writes CTranslate2 model files; the converter's tests build small models with it.
#[cfg(test)]
pub mod testing {
    #[derive(Default)]
    pub struct Ct2Writer {
        vars: Vec<(String, Vec<u32>, u8, Vec<u8>)>,
        aliases: Vec<(String, String)>,
    }

    fn push_string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    impl Ct2Writer {
        pub fn new() -> Self {
            Self::default()
        }

        pub fn f16(&mut self, name: &str, shape: &[u32], values: &[f32]) {
            let data = values
                .iter()
                .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                .collect();
            self.vars.push((name.into(), shape.to_vec(), 4, data));
        }

        pub fn i16(&mut self, name: &str, value: i16) {
            self.vars
                .push((name.into(), vec![], 2, value.to_le_bytes().to_vec()));
        }

        pub fn alias(&mut self, alias: &str, target: &str) {
            self.aliases.push((alias.into(), target.into()));
        }

        pub fn finish(&self) -> Vec<u8> {
            let mut out = Vec::new();
            out.extend_from_slice(&6u32.to_le_bytes());
            push_string(&mut out, "WhisperSpec");
            out.extend_from_slice(&3u32.to_le_bytes());
            out.extend_from_slice(&(self.vars.len() as u32).to_le_bytes());
            for (name, shape, dtype, data) in &self.vars {
                push_string(&mut out, name);
                out.push(shape.len() as u8);
                for d in shape {
                    out.extend_from_slice(&d.to_le_bytes());
                }
                out.push(*dtype);
                out.extend_from_slice(&(data.len() as u32).to_le_bytes());
                out.extend_from_slice(data);
            }
            out.extend_from_slice(&(self.aliases.len() as u32).to_le_bytes());
            for (alias, target) in &self.aliases {
                push_string(&mut out, alias);
                push_string(&mut out, target);
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Ct2Writer;
    use super::*;

    fn small_model() -> Vec<u8> {
        let mut w = Ct2Writer::new();
        w.f16("a/weight", &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        w.i16("a/num_heads", 6);
        w.alias("b/weight", "a/weight");
        w.finish()
    }

    #[test]
    fn parses_variables_scalars_and_aliases() {
        let bytes = small_model();
        let model = Ct2Model::parse(&bytes).unwrap();
        assert_eq!(model.spec, "WhisperSpec");
        assert_eq!(model.revision, 3);
        let w = model.get("b/weight").unwrap();
        assert_eq!(w.shape, vec![2, 3]);
        assert_eq!(w.to_f32().unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(model.get("a/num_heads").unwrap().to_int().unwrap(), 6);
        assert!(model.get("missing").is_err());
    }

    #[test]
    fn truncated_file_is_an_error_at_every_cut() {
        let bytes = small_model();
        for cut in 0..bytes.len() {
            assert!(Ct2Model::parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn wrong_version_and_wrong_sizes_are_errors() {
        let mut bytes = small_model();
        bytes[0] = 5;
        let err = Ct2Model::parse(&bytes).unwrap_err().to_string();
        assert!(err.contains("version 5"), "{err}");

        let mut w = Ct2Writer::new();
        w.f16("a/weight", &[2, 4], &[1.0; 6]);
        let err = Ct2Model::parse(&w.finish()).unwrap_err().to_string();
        assert!(err.contains("needs 16"), "{err}");
    }
}
