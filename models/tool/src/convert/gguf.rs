//! A small writer of GGUF version 3 files, the format that ggml, llama.cpp and candle's quantized
//! loaders read.
//!
//! Layout, all little-endian: the magic `GGUF`, u32 version 3, u64 tensor count, u64 metadata
//! count; each metadata entry as its key, a u32 value type and the value; each tensor's info as
//! its name, u32 rank, u64 dims *innermost first*, u32 ggml type and the u64 offset of its data
//! from the start of the data section; zero padding up to the alignment; then each tensor's data,
//! each padded to the alignment. A string is a u64 byte length and its UTF-8 bytes, with no NUL.
//!
//! Callers give shapes outermost first, as PyTorch and candle do, and the writer reverses them on
//! disk. The alignment is always 32 (GGUF's default), and `general.alignment` says so in every
//! file. Entries are written in the order they were added, so the same input always makes the
//! same bytes, and a converted file can be pinned by its hash. The tool has its own writer
//! because candle is not one of its dependencies (candle's writer also wants every tensor as a
//! loaded `QTensor`, which would copy each weight).

use anyhow::{bail, ensure, Context, Result};
use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Write;

/// The alignment of the data section and of every tensor in it, in bytes.
pub const ALIGNMENT: usize = 32;
const MAGIC: &[u8; 4] = b"GGUF";
const VERSION: u32 = 3;
/// GGUF limits tensor names to 64 bytes.
const MAX_NAME_BYTES: usize = 64;
/// ggml tensors have at most four dimensions.
const MAX_RANK: usize = 4;

/// The ggml element types this writer knows, with their numbers from ggml.h.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorType {
    F32,
    F16,
    /// Blocks of 32 weights: an f16 scale `d`, then 16 bytes whose low nibbles are weights 0..16
    /// and high nibbles weights 16..32, each worth `(nibble - 8) * d`.
    Q4_0,
    /// Blocks of 32 weights: f16 scale `d`, f16 minimum `m`, 16 bytes of nibbles worth
    /// `nibble * d + m`, ordered as in Q4_0.
    Q4_1,
    /// Blocks of 32 weights: an f16 scale and 32 signed bytes.
    Q8_0,
}

impl TensorType {
    /// The type's number in ggml's `ggml_type` enum.
    pub fn id(self) -> u32 {
        match self {
            TensorType::F32 => 0,
            TensorType::F16 => 1,
            TensorType::Q4_0 => 2,
            TensorType::Q4_1 => 3,
            TensorType::Q8_0 => 8,
        }
    }

    /// Elements per block (1 for the float types).
    pub fn block_elements(self) -> usize {
        match self {
            TensorType::F32 | TensorType::F16 => 1,
            TensorType::Q4_0 | TensorType::Q4_1 | TensorType::Q8_0 => 32,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            TensorType::F32 => 4,
            TensorType::F16 => 2,
            TensorType::Q4_0 => 18,
            TensorType::Q4_1 => 20,
            TensorType::Q8_0 => 34,
        }
    }

    /// The byte size of a tensor of this type and `shape` (outermost first). ggml quantizes
    /// along rows, so the innermost dimension must be a whole number of blocks.
    pub fn data_bytes(self, shape: &[usize]) -> Result<usize> {
        let inner = shape.last().copied().unwrap_or(1);
        ensure!(
            inner.is_multiple_of(self.block_elements()),
            "the innermost dimension {inner} is not a multiple of {:?}'s block of {}",
            self,
            self.block_elements()
        );
        let elements = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .with_context(|| format!("the shape {shape:?} is impossibly large"))?;
        (elements / self.block_elements())
            .checked_mul(self.block_bytes())
            .with_context(|| format!("the shape {shape:?} is impossibly large"))
    }
}

/// A metadata value, of the GGUF value types a converter needs.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    U32(u32),
    I32(i32),
    U64(u64),
    F32(f32),
    Bool(bool),
    String(String),
    Array(MetaArray),
}

/// An array value: GGUF arrays hold elements of one type.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaArray {
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    String(Vec<String>),
}

/// GGUF's numbers for value types.
mod value_type {
    pub const U32: u32 = 4;
    pub const I32: u32 = 5;
    pub const F32: u32 = 6;
    pub const BOOL: u32 = 7;
    pub const STRING: u32 = 8;
    pub const ARRAY: u32 = 9;
    pub const U64: u32 = 10;
}

impl MetaValue {
    fn type_id(&self) -> u32 {
        match self {
            MetaValue::U32(_) => value_type::U32,
            MetaValue::I32(_) => value_type::I32,
            MetaValue::U64(_) => value_type::U64,
            MetaValue::F32(_) => value_type::F32,
            MetaValue::Bool(_) => value_type::BOOL,
            MetaValue::String(_) => value_type::STRING,
            MetaValue::Array(_) => value_type::ARRAY,
        }
    }

    fn write_to(&self, out: &mut Counting<impl Write>) -> Result<()> {
        match self {
            MetaValue::U32(v) => out.put(&v.to_le_bytes()),
            MetaValue::I32(v) => out.put(&v.to_le_bytes()),
            MetaValue::U64(v) => out.put(&v.to_le_bytes()),
            MetaValue::F32(v) => out.put(&v.to_le_bytes()),
            MetaValue::Bool(v) => out.put(&[u8::from(*v)]),
            MetaValue::String(s) => out.string(s),
            MetaValue::Array(a) => a.write_to(out),
        }
    }
}

impl MetaArray {
    fn write_to(&self, out: &mut Counting<impl Write>) -> Result<()> {
        match self {
            MetaArray::U32(v) => {
                write_array(out, value_type::U32, v, |o, x| o.put(&x.to_le_bytes()))
            }
            MetaArray::I32(v) => {
                write_array(out, value_type::I32, v, |o, x| o.put(&x.to_le_bytes()))
            }
            MetaArray::F32(v) => {
                write_array(out, value_type::F32, v, |o, x| o.put(&x.to_le_bytes()))
            }
            MetaArray::String(v) => write_array(out, value_type::STRING, v, |o, s| o.string(s)),
        }
    }
}

fn write_array<W: Write, T>(
    out: &mut Counting<W>,
    element_type: u32,
    items: &[T],
    mut write_one: impl FnMut(&mut Counting<W>, &T) -> Result<()>,
) -> Result<()> {
    out.put(&element_type.to_le_bytes())?;
    out.put(&(items.len() as u64).to_le_bytes())?;
    items.iter().try_for_each(|item| write_one(out, item))
}

/// One tensor waiting to be written.
struct TensorEntry<'a> {
    name: String,
    shape: Vec<usize>,
    ttype: TensorType,
    data: Cow<'a, [u8]>,
}

/// Collects metadata and tensors, checks each as it is added, and writes the file in one pass.
/// Tensor data is borrowed where the caller can lend it, so converting a file copies no weight.
pub struct GgufWriter<'a> {
    metadata: Vec<(String, MetaValue)>,
    tensors: Vec<TensorEntry<'a>>,
    names: HashSet<String>,
}

impl Default for GgufWriter<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> GgufWriter<'a> {
    /// An empty file that already holds `general.alignment` = 32.
    pub fn new() -> Self {
        GgufWriter {
            metadata: vec![(
                "general.alignment".to_string(),
                MetaValue::U32(ALIGNMENT as u32),
            )],
            tensors: Vec::new(),
            names: HashSet::new(),
        }
    }

    /// Adds a metadata entry; keys are unique.
    pub fn metadata(&mut self, key: &str, value: MetaValue) -> Result<()> {
        ensure!(!key.is_empty(), "a GGUF metadata key is empty");
        ensure!(
            self.metadata.iter().all(|(k, _)| k != key),
            "the GGUF metadata key '{key}' is set twice"
        );
        self.metadata.push((key.to_string(), value));
        Ok(())
    }

    /// Adds a tensor of `shape` (outermost first, at most four dimensions, none of them zero)
    /// whose `data` are exactly the bytes that shape and type need.
    pub fn tensor(
        &mut self,
        name: &str,
        shape: &[usize],
        ttype: TensorType,
        data: impl Into<Cow<'a, [u8]>>,
    ) -> Result<()> {
        let data = data.into();
        check_name(name)?;
        ensure!(
            !self.names.contains(name),
            "the GGUF tensor '{name}' is added twice"
        );
        ensure!(
            (1..=MAX_RANK).contains(&shape.len()) && shape.iter().all(|&d| d > 0),
            "the GGUF tensor '{name}' has shape {shape:?}; ggml needs 1 to 4 non-zero dimensions"
        );
        let expected = ttype
            .data_bytes(shape)
            .with_context(|| format!("GGUF tensor '{name}'"))?;
        let got = data.len();
        ensure!(
            got == expected,
            "GGUF tensor '{name}' has {got} bytes but {ttype:?} of shape {shape:?} needs {expected}"
        );
        self.names.insert(name.to_string());
        self.tensors.push(TensorEntry {
            name: name.to_string(),
            shape: shape.to_vec(),
            ttype,
            data,
        });
        Ok(())
    }

    /// Writes the whole file to `out` and returns its size in bytes.
    pub fn write(&self, out: &mut impl Write) -> Result<u64> {
        let mut out = Counting {
            inner: out,
            written: 0,
        };
        self.write_header(&mut out)?;
        self.write_tensor_infos(&mut out)?;
        out.pad()?;
        for tensor in &self.tensors {
            out.put(&tensor.data)
                .with_context(|| format!("writing GGUF tensor '{}'", tensor.name))?;
            out.pad()?;
        }
        Ok(out.written)
    }

    fn write_header(&self, out: &mut Counting<impl Write>) -> Result<()> {
        out.put(MAGIC)?;
        out.put(&VERSION.to_le_bytes())?;
        out.put(&(self.tensors.len() as u64).to_le_bytes())?;
        out.put(&(self.metadata.len() as u64).to_le_bytes())?;
        for (key, value) in &self.metadata {
            out.string(key)?;
            out.put(&value.type_id().to_le_bytes())?;
            value.write_to(out)?;
        }
        Ok(())
    }

    fn write_tensor_infos(&self, out: &mut Counting<impl Write>) -> Result<()> {
        let mut offset = 0u64;
        for tensor in &self.tensors {
            out.string(&tensor.name)?;
            out.put(&(tensor.shape.len() as u32).to_le_bytes())?;
            for &dim in tensor.shape.iter().rev() {
                out.put(&(dim as u64).to_le_bytes())?;
            }
            out.put(&tensor.ttype.id().to_le_bytes())?;
            out.put(&offset.to_le_bytes())?;
            offset = align(offset + tensor.data.len() as u64);
        }
        Ok(())
    }
}

fn check_name(name: &str) -> Result<()> {
    ensure!(!name.is_empty(), "a GGUF tensor name is empty");
    if name.len() > MAX_NAME_BYTES {
        bail!("the GGUF tensor name '{name}' is longer than {MAX_NAME_BYTES} bytes");
    }
    Ok(())
}

fn align(offset: u64) -> u64 {
    offset.div_ceil(ALIGNMENT as u64) * ALIGNMENT as u64
}

/// A writer that counts what went through it, for the padding.
struct Counting<'w, W: Write> {
    inner: &'w mut W,
    written: u64,
}

impl<W: Write> Counting<'_, W> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.inner
            .write_all(bytes)
            .context("could not write the GGUF file")?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn string(&mut self, s: &str) -> Result<()> {
        self.put(&(s.len() as u64).to_le_bytes())?;
        self.put(s.as_bytes())
    }

    fn pad(&mut self) -> Result<()> {
        let padding = align(self.written) - self.written;
        self.put(&[0u8; ALIGNMENT][..padding as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::gguf_file::{Content, Value};
    use candle_core::quantized::GgmlDType;
    use candle_core::Device;
    use std::io::Cursor;

    fn f32_bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Two Q4_0 blocks: scales 0.5 and 2.0, nibbles counting up.
    fn q4_0_blocks() -> Vec<u8> {
        let mut out = Vec::new();
        for scale in [0.5f32, 2.0] {
            out.extend_from_slice(&half::f16::from_f32(scale).to_le_bytes());
            out.extend((0..16u8).map(|j| (15 - j) << 4 | j));
        }
        out
    }

    fn small_file() -> Vec<u8> {
        let mut w = GgufWriter::new();
        w.metadata("general.architecture", MetaValue::String("test".into()))
            .unwrap();
        w.metadata("test.count", MetaValue::U32(7)).unwrap();
        w.metadata("test.offset", MetaValue::I32(-3)).unwrap();
        w.metadata("test.big", MetaValue::U64(1 << 40)).unwrap();
        w.metadata("test.eps", MetaValue::F32(1e-12)).unwrap();
        w.metadata("test.flag", MetaValue::Bool(true)).unwrap();
        let words = MetaArray::String(vec!["a".into(), "bc".into()]);
        w.metadata("test.words", MetaValue::Array(words)).unwrap();
        w.metadata("test.ids", MetaValue::Array(MetaArray::U32(vec![1, 2])))
            .unwrap();
        w.metadata("test.empty", MetaValue::Array(MetaArray::F32(vec![])))
            .unwrap();
        let values = f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        w.tensor("a.weight", &[2, 3], TensorType::F32, values)
            .unwrap();
        w.tensor("b.weight", &[2, 32], TensorType::Q4_0, q4_0_blocks())
            .unwrap();
        let halves: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
            .collect();
        w.tensor("c.bias", &[2], TensorType::F16, halves).unwrap();
        let mut out = Vec::new();
        let size = w.write(&mut out).unwrap();
        assert_eq!(size, out.len() as u64);
        out
    }

    #[test]
    fn candle_reads_metadata_back() {
        let bytes = small_file();
        let content = Content::read(&mut Cursor::new(&bytes)).unwrap();
        let meta = &content.metadata;
        assert_eq!(meta["general.alignment"].to_u32().unwrap(), 32);
        assert_eq!(meta["general.architecture"].to_string().unwrap(), "test");
        assert_eq!(meta["test.count"].to_u32().unwrap(), 7);
        assert_eq!(meta["test.offset"].to_i32().unwrap(), -3);
        assert_eq!(meta["test.big"].to_u64().unwrap(), 1 << 40);
        assert_eq!(meta["test.eps"].to_f32().unwrap(), 1e-12);
        assert!(meta["test.flag"].to_bool().unwrap());
        let words: Vec<_> = meta["test.words"]
            .to_vec()
            .unwrap()
            .iter()
            .map(|v| v.to_string().unwrap().clone())
            .collect();
        assert_eq!(words, ["a", "bc"]);
        assert!(matches!(
            meta["test.ids"].to_vec().unwrap()[..],
            [Value::U32(1), Value::U32(2)]
        ));
        assert!(meta["test.empty"].to_vec().unwrap().is_empty());
        assert_eq!(meta.len(), 10);
    }

    #[test]
    fn candle_reads_tensors_back_with_shapes_outermost_first() {
        let bytes = small_file();
        let mut reader = Cursor::new(&bytes);
        let content = Content::read(&mut reader).unwrap();
        assert!(content.tensor_data_offset.is_multiple_of(ALIGNMENT as u64));
        assert!(content
            .tensor_infos
            .values()
            .all(|t| t.offset.is_multiple_of(ALIGNMENT as u64)));

        let a = content
            .tensor(&mut reader, "a.weight", &Device::Cpu)
            .unwrap();
        assert_eq!(a.shape().dims(), [2, 3]);
        let rows: Vec<Vec<f32>> = a.dequantize(&Device::Cpu).unwrap().to_vec2().unwrap();
        assert_eq!(rows, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);

        let b = content
            .tensor(&mut reader, "b.weight", &Device::Cpu)
            .unwrap();
        assert_eq!(
            (b.dtype(), b.shape().dims()),
            (GgmlDType::Q4_0, &[2usize, 32][..])
        );
        assert_eq!(b.data().unwrap().as_ref(), q4_0_blocks());
        let rows: Vec<Vec<f32>> = b.dequantize(&Device::Cpu).unwrap().to_vec2().unwrap();
        // Byte j holds weight j (low nibble j) and weight j + 16 (high nibble 15 - j).
        assert_eq!(rows[0][3], (3.0 - 8.0) * 0.5);
        assert_eq!(rows[1][16 + 3], (12.0 - 8.0) * 2.0);

        let c = content.tensor(&mut reader, "c.bias", &Device::Cpu).unwrap();
        assert_eq!(c.dtype(), GgmlDType::F16);
        let values: Vec<f32> = c.dequantize(&Device::Cpu).unwrap().to_vec1().unwrap();
        assert_eq!(values, [1.5, -2.0]);
    }

    #[test]
    fn header_is_version_3_and_output_is_deterministic() {
        let bytes = small_file();
        assert_eq!(&bytes[..4], b"GGUF");
        assert_eq!(bytes[4..8], 3u32.to_le_bytes());
        assert_eq!(bytes[8..16], 3u64.to_le_bytes());
        assert_eq!(bytes[16..24], 10u64.to_le_bytes());
        assert!(bytes.len().is_multiple_of(ALIGNMENT));
        assert_eq!(bytes, small_file());
    }

    #[test]
    fn wrong_sizes_shapes_and_names_are_errors() {
        let mut w = GgufWriter::new();
        let err = w
            .tensor("t", &[2, 3], TensorType::F32, vec![0u8; 20])
            .unwrap_err();
        assert!(format!("{err:#}").contains("needs 24"), "{err:#}");
        let err = w
            .tensor("t", &[32, 2], TensorType::Q4_0, vec![0u8; 36])
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("innermost dimension 2"),
            "{err:#}"
        );
        let err = w
            .tensor("t", &[1, 1, 1, 1, 1], TensorType::F32, vec![0u8; 4])
            .unwrap_err();
        assert!(format!("{err:#}").contains("1 to 4"), "{err:#}");
        let err = w.tensor("t", &[0], TensorType::F32, vec![]).unwrap_err();
        assert!(format!("{err:#}").contains("non-zero"), "{err:#}");
        let err = w
            .tensor(&"x".repeat(65), &[1], TensorType::F32, vec![0u8; 4])
            .unwrap_err();
        assert!(format!("{err:#}").contains("64 bytes"), "{err:#}");
        let huge = [usize::MAX, 2];
        assert!(TensorType::F32.data_bytes(&huge).is_err());

        w.tensor("t", &[1], TensorType::F32, vec![0u8; 4]).unwrap();
        let err = w
            .tensor("t", &[1], TensorType::F32, vec![0u8; 4])
            .unwrap_err();
        assert!(format!("{err:#}").contains("twice"), "{err:#}");
        let err = w
            .metadata("general.alignment", MetaValue::U32(64))
            .unwrap_err();
        assert!(format!("{err:#}").contains("twice"), "{err:#}");
    }

    #[test]
    fn a_failing_sink_is_an_error() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let err = GgufWriter::new().write(&mut Full).unwrap_err();
        assert!(format!("{err:#}").contains("disk full"), "{err:#}");
    }
}
