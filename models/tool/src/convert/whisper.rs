//! CTranslate2 Whisper -> whisper.cpp's ggml file.
//!
//! whisper.cpp checks the byte size of every tensor it loads, so the element types here follow
//! its loader exactly: 1-D tensors, conv biases (as n x 1) and positional embeddings are F32;
//! conv weights are F16; the other 2-D weights are F16 or Q8_0. CTranslate2 fuses Q, K and V of
//! self-attention (and K, V of cross-attention) along the output rows and keeps a key bias that
//! is all zeros; whisper.cpp has no key bias, so it is checked to be zero and dropped. The
//! decoder's output projection is the token embedding again and is not written.
//!
//! File layout: magic, eleven i32 hyper-parameters, the mel filter bank (i32 n_mels, i32 n_fft,
//! f32 values), the byte-level vocabulary up to but not including `<|endoftext|>` (whisper.cpp
//! adds the special tokens itself), then each tensor as i32 rank, i32 name length, i32 type,
//! the shape innermost first, the name and the data.

use super::ct2::{Ct2Model, Dtype, Variable};
use anyhow::{bail, ensure, Context, Result};
use std::collections::{BTreeSet, HashMap};
use std::io::Write;

/// ggml's file magic, "ggml" as a little-endian u32.
pub const GGML_MAGIC: u32 = 0x6767_6d6c;
/// whisper.cpp stores the quantization format version in the ftype field, times this factor.
const QNT_VERSION_FACTOR: i32 = 1000;
const QNT_VERSION: i32 = 2;
/// Elements per Q8_0 block.
pub const Q8_0_BLOCK: usize = 32;

/// The weight type of the 2-D matrices of the output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightType {
    F16,
    Q8_0,
}

impl WeightType {
    pub fn from_variant(variant: &str) -> Result<WeightType> {
        match variant {
            "f16" => Ok(WeightType::F16),
            "q8_0" => Ok(WeightType::Q8_0),
            other => bail!("unknown whisper weight variant '{other}' (expected f16 or q8_0)"),
        }
    }

    /// The value of the header's ftype field.
    fn ftype(self) -> i32 {
        match self {
            WeightType::F16 => 1,
            WeightType::Q8_0 => 7 + QNT_VERSION_FACTOR * QNT_VERSION,
        }
    }
}

/// ggml tensor types as numbered in ggml.h.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
}

/// The model's dimensions, in the order of the file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
}

/// Converts a CTranslate2 Whisper model and its `tokenizer.json` into a whisper.cpp file.
pub fn convert(
    model_bin: &[u8],
    tokenizer_json: &[u8],
    wtype: WeightType,
    out: &mut impl Write,
) -> Result<()> {
    let model = Ct2Model::parse(model_bin)?;
    ensure!(
        model.spec == "WhisperSpec",
        "model.bin holds a {} model, not Whisper",
        model.spec
    );
    let hp = hparams(&model)?;
    let vocab = vocabulary(tokenizer_json)?;
    ensure!(
        vocab.len() < hp.n_vocab,
        "the tokenizer has {} tokens before <|endoftext|> but the model only {} embeddings",
        vocab.len(),
        hp.n_vocab
    );
    write_header(out, &hp, wtype)?;
    write_mel_filters(out, hp.n_mels)?;
    write_vocabulary(out, &vocab)?;
    for plan in tensor_plan(&hp) {
        write_tensor(out, &model, &plan, wtype).with_context(|| format!("tensor {}", plan.name))?;
    }
    Ok(())
}

/// Reads the dimensions from the variables' shapes and the stored head counts.
pub fn hparams(model: &Ct2Model) -> Result<Hparams> {
    let dims2 = |name: &str| -> Result<(usize, usize)> {
        match model.get(name)?.shape.as_slice() {
            [a, b] => Ok((*a, *b)),
            other => bail!("'{name}' has shape {other:?}, expected two dimensions"),
        }
    };
    let (n_vocab, n_text_state) = dims2("decoder/embeddings/weight")?;
    let (n_audio_ctx, n_audio_state) = dims2("encoder/position_encodings/encodings")?;
    let (n_text_ctx, _) = dims2("decoder/position_encodings/encodings")?;
    let conv1 = &model.get("encoder/conv1/weight")?.shape;
    let n_mels = *conv1.get(1).context("encoder/conv1/weight is not 3-D")?;
    let heads = |name: &str| -> Result<usize> {
        let n = model.get(name)?.to_int()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n > 0)
            .context("head count is not positive")
    };
    Ok(Hparams {
        n_vocab,
        n_audio_ctx,
        n_audio_state,
        n_audio_head: heads("encoder/num_heads")?,
        n_audio_layer: count_layers(model, "encoder/")?,
        n_text_ctx,
        n_text_state,
        n_text_head: heads("decoder/num_heads")?,
        n_text_layer: count_layers(model, "decoder/")?,
        n_mels,
    })
}

/// Counts `PREFIX layer_<digits>/` groups; `layer_norm` shares the prefix and is not a layer.
fn count_layers(model: &Ct2Model, prefix: &str) -> Result<usize> {
    let mut layers = BTreeSet::new();
    for name in model.variables.keys() {
        let Some(rest) = name
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix("layer_"))
        else {
            continue;
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && rest[digits.len()..].starts_with('/') {
            layers.insert(digits.parse::<usize>()?);
        }
    }
    let n = layers.len();
    ensure!(n > 0, "model.bin has no {prefix}layer_N variables");
    ensure!(
        layers.iter().copied().eq(0..n),
        "{prefix} layers are not numbered 0..{n}"
    );
    Ok(n)
}

fn write_i32(out: &mut impl Write, v: i32) -> Result<()> {
    out.write_all(&v.to_le_bytes())?;
    Ok(())
}

fn write_usize(out: &mut impl Write, v: usize) -> Result<()> {
    write_i32(
        out,
        i32::try_from(v).context("a dimension does not fit in i32")?,
    )
}

fn write_header(out: &mut impl Write, hp: &Hparams, wtype: WeightType) -> Result<()> {
    out.write_all(&GGML_MAGIC.to_le_bytes())?;
    for v in [
        hp.n_vocab,
        hp.n_audio_ctx,
        hp.n_audio_state,
        hp.n_audio_head,
        hp.n_audio_layer,
        hp.n_text_ctx,
        hp.n_text_state,
        hp.n_text_head,
        hp.n_text_layer,
        hp.n_mels,
    ] {
        write_usize(out, v)?;
    }
    write_i32(out, wtype.ftype())
}

/// Sample rate and FFT size of Whisper's front end.
const SAMPLE_RATE: f64 = 16_000.0;
const N_FFT: usize = 400;

/// Hz -> mel on the Slaney scale (linear below 1 kHz, logarithmic above), as librosa has it.
fn hz_to_mel(hz: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= min_log_hz {
        min_log_mel + (hz / min_log_hz).ln() / logstep
    } else {
        hz / f_sp
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        min_log_hz * (logstep * (mel - min_log_mel)).exp()
    } else {
        f_sp * mel
    }
}

/// The n_mels x (N_FFT/2 + 1) triangular filter bank with Slaney area normalisation, row-major:
/// what `librosa.filters.mel(sr=16000, n_fft=400, n_mels=n_mels)` returns.
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    let n_freqs = N_FFT / 2 + 1;
    let fft_freqs: Vec<f64> = (0..n_freqs)
        .map(|i| i as f64 * SAMPLE_RATE / N_FFT as f64)
        .collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2.0));
    let mel_hz: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut weights = Vec::with_capacity(n_mels * n_freqs);
    for m in 0..n_mels {
        let (left, center, right) = (mel_hz[m], mel_hz[m + 1], mel_hz[m + 2]);
        let norm = 2.0 / (right - left);
        for &f in &fft_freqs {
            let lower = (f - left) / (center - left);
            let upper = (right - f) / (right - center);
            weights.push((lower.min(upper).max(0.0) * norm) as f32);
        }
    }
    weights
}

fn write_mel_filters(out: &mut impl Write, n_mels: usize) -> Result<()> {
    write_usize(out, n_mels)?;
    write_usize(out, N_FFT / 2 + 1)?;
    for v in mel_filters(n_mels) {
        out.write_all(&v.to_le_bytes())?;
    }
    Ok(())
}

/// GPT-2's byte-level alphabet: printable bytes stand for themselves, the others are shifted
/// to code points from 256 up. Returns the map from those characters back to bytes.
fn byte_decoder() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut map = HashMap::with_capacity(256);
    let mut shifted = 0u32;
    for b in 0..=255u8 {
        let code = if printable(b) {
            u32::from(b)
        } else {
            shifted += 1;
            255 + shifted
        };
        if let Some(c) = char::from_u32(code) {
            map.insert(c, b);
        }
    }
    map
}

/// The tokens below `<|endoftext|>` as raw bytes, in id order.
pub fn vocabulary(tokenizer_json: &[u8]) -> Result<Vec<Vec<u8>>> {
    let doc: serde_json::Value =
        serde_json::from_slice(tokenizer_json).context("tokenizer.json is not valid JSON")?;
    let vocab = doc
        .pointer("/model/vocab")
        .and_then(|v| v.as_object())
        .context("tokenizer.json has no model.vocab")?;
    let eot = end_of_text_id(&doc).or_else(|| vocab.get("<|endoftext|>").and_then(|v| v.as_u64()));
    let eot = usize::try_from(eot.context("tokenizer.json has no <|endoftext|> token")?)?;
    let decoder = byte_decoder();
    let mut tokens: Vec<Option<Vec<u8>>> = vec![None; eot];
    for (text, id) in vocab {
        let id = usize::try_from(id.as_u64().context("a token id is not a number")?)?;
        if let Some(slot) = tokens.get_mut(id) {
            let bytes = text
                .chars()
                .map(|c| decoder.get(&c).copied())
                .collect::<Option<Vec<u8>>>()
                .with_context(|| format!("token {id} is not byte-level BPE"))?;
            *slot = Some(bytes);
        }
    }
    tokens
        .into_iter()
        .enumerate()
        .map(|(id, t)| t.with_context(|| format!("tokenizer.json has no token with id {id}")))
        .collect()
}

fn end_of_text_id(doc: &serde_json::Value) -> Option<u64> {
    doc.get("added_tokens")?
        .as_array()?
        .iter()
        .find(|t| t.get("content").and_then(|c| c.as_str()) == Some("<|endoftext|>"))?
        .get("id")?
        .as_u64()
}

fn write_vocabulary(out: &mut impl Write, vocab: &[Vec<u8>]) -> Result<()> {
    write_usize(out, vocab.len())?;
    for token in vocab {
        write_usize(out, token.len())?;
        out.write_all(token)?;
    }
    Ok(())
}

/// Which rows of which CTranslate2 variable make a whisper.cpp tensor.
#[derive(Debug, Clone)]
pub struct TensorPlan {
    pub name: String,
    source: String,
    /// A slice of rows (Q, K or V of a fused projection); `None` takes the whole variable.
    rows: Option<(usize, usize)>,
    /// Stored as F32 whatever the weight type (biases, norms, positional embeddings).
    force_f32: bool,
    /// A conv bias, which whisper.cpp wants as an n x 1 matrix.
    column: bool,
    /// The rows must be zero and are not written (CTranslate2's key bias).
    must_be_zero: Option<(usize, usize)>,
}

impl TensorPlan {
    fn whole(name: String, source: String) -> TensorPlan {
        TensorPlan {
            name,
            source,
            rows: None,
            force_f32: false,
            column: false,
            must_be_zero: None,
        }
    }

    fn f32(mut self) -> TensorPlan {
        self.force_f32 = true;
        self
    }

    fn rows(mut self, start: usize, end: usize) -> TensorPlan {
        self.rows = Some((start, end));
        self
    }
}

/// A linear layer (weight and bias) from CTranslate2 `src` to whisper.cpp `dst`.
fn linear(dst: &str, src: &str) -> [TensorPlan; 2] {
    [
        TensorPlan::whole(format!("{dst}.weight"), format!("{src}/weight")),
        TensorPlan::whole(format!("{dst}.bias"), format!("{src}/bias")).f32(),
    ]
}

fn layer_norm(dst: &str, src: &str) -> [TensorPlan; 2] {
    [
        TensorPlan::whole(format!("{dst}.weight"), format!("{src}/gamma")).f32(),
        TensorPlan::whole(format!("{dst}.bias"), format!("{src}/beta")).f32(),
    ]
}

/// Query, key and value from a projection whose rows fuse `parts` of n each, starting with
/// the part at index `first` (0 = query, 1 = key, 2 = value).
fn split_attention(dst: &str, src: &str, n: usize, first: usize) -> Vec<TensorPlan> {
    let mut plans = Vec::new();
    for (part, name) in ["query", "key", "value"].iter().enumerate().skip(first) {
        let (start, end) = ((part - first) * n, (part - first + 1) * n);
        let weight = format!("{src}/weight");
        plans.push(TensorPlan::whole(format!("{dst}.{name}.weight"), weight).rows(start, end));
        let bias = format!("{src}/bias");
        if *name == "key" {
            let mut check = TensorPlan::whole(String::new(), bias);
            check.must_be_zero = Some((start, end));
            plans.push(check);
        } else {
            let plan = TensorPlan::whole(format!("{dst}.{name}.bias"), bias);
            plans.push(plan.f32().rows(start, end));
        }
    }
    plans
}

fn mlp(dst: &str, src: &str) -> Vec<TensorPlan> {
    let mut plans = Vec::new();
    plans.extend(layer_norm(
        &format!("{dst}.mlp_ln"),
        &format!("{src}/ffn/layer_norm"),
    ));
    plans.extend(linear(
        &format!("{dst}.mlp.0"),
        &format!("{src}/ffn/linear_0"),
    ));
    plans.extend(linear(
        &format!("{dst}.mlp.2"),
        &format!("{src}/ffn/linear_1"),
    ));
    plans
}

fn self_attention(dst: &str, src: &str, n_state: usize) -> Vec<TensorPlan> {
    let (dst_attn, src_attn) = (format!("{dst}.attn"), format!("{src}/self_attention"));
    let mut plans = Vec::new();
    plans.extend(layer_norm(
        &format!("{dst}.attn_ln"),
        &format!("{src_attn}/layer_norm"),
    ));
    plans.extend(split_attention(
        &dst_attn,
        &format!("{src_attn}/linear_0"),
        n_state,
        0,
    ));
    plans.extend(linear(
        &format!("{dst_attn}.out"),
        &format!("{src_attn}/linear_1"),
    ));
    plans
}

fn cross_attention(dst: &str, src: &str, n_state: usize) -> Vec<TensorPlan> {
    let (dst_attn, src_attn) = (format!("{dst}.cross_attn"), format!("{src}/attention"));
    let mut plans = Vec::new();
    plans.extend(layer_norm(
        &format!("{dst}.cross_attn_ln"),
        &format!("{src_attn}/layer_norm"),
    ));
    plans.extend(linear(
        &format!("{dst_attn}.query"),
        &format!("{src_attn}/linear_0"),
    ));
    plans.extend(split_attention(
        &dst_attn,
        &format!("{src_attn}/linear_1"),
        n_state,
        1,
    ));
    plans.extend(linear(
        &format!("{dst_attn}.out"),
        &format!("{src_attn}/linear_2"),
    ));
    plans
}

fn conv(dst: &str, src: &str) -> [TensorPlan; 2] {
    let [weight, mut bias] = linear(dst, src);
    bias.column = true;
    [weight, bias]
}

/// Every tensor whisper.cpp loads, in the order they are written.
pub fn tensor_plan(hp: &Hparams) -> Vec<TensorPlan> {
    let mut plans = Vec::new();
    plans.extend(conv("encoder.conv1", "encoder/conv1"));
    plans.extend(conv("encoder.conv2", "encoder/conv2"));
    let pe = "encoder/position_encodings/encodings".to_string();
    plans.push(TensorPlan::whole("encoder.positional_embedding".into(), pe).f32());
    for i in 0..hp.n_audio_layer {
        let (dst, src) = (format!("encoder.blocks.{i}"), format!("encoder/layer_{i}"));
        plans.extend(self_attention(&dst, &src, hp.n_audio_state));
        plans.extend(mlp(&dst, &src));
    }
    plans.extend(layer_norm("encoder.ln_post", "encoder/layer_norm"));

    let emb = "decoder/embeddings/weight".to_string();
    plans.push(TensorPlan::whole(
        "decoder.token_embedding.weight".into(),
        emb,
    ));
    let pe = "decoder/position_encodings/encodings".to_string();
    plans.push(TensorPlan::whole("decoder.positional_embedding".into(), pe).f32());
    for i in 0..hp.n_text_layer {
        let (dst, src) = (format!("decoder.blocks.{i}"), format!("decoder/layer_{i}"));
        plans.extend(self_attention(&dst, &src, hp.n_text_state));
        plans.extend(cross_attention(&dst, &src, hp.n_text_state));
        plans.extend(mlp(&dst, &src));
    }
    plans.extend(layer_norm("decoder.ln", "decoder/layer_norm"));
    plans
}

/// The rows of a variable as f32 values, with the shape they have.
fn select_rows(var: &Variable, rows: Option<(usize, usize)>) -> Result<(Vec<f32>, Vec<usize>)> {
    let values = var.to_f32()?;
    let Some((start, end)) = rows else {
        return Ok((values, var.shape.clone()));
    };
    let row_len: usize = var.shape.iter().skip(1).product();
    let slice = values
        .get(start * row_len..end * row_len)
        .with_context(|| format!("rows {start}..{end} are outside shape {:?}", var.shape))?;
    let mut shape = var.shape.clone();
    if let Some(first) = shape.first_mut() {
        *first = end - start;
    }
    Ok((slice.to_vec(), shape))
}

fn storage_type(plan: &TensorPlan, shape: &[usize], wtype: WeightType) -> GgmlType {
    if plan.force_f32 || plan.column || shape.len() < 2 {
        GgmlType::F32
    } else if shape.len() == 2 && wtype == WeightType::Q8_0 {
        GgmlType::Q8_0
    } else {
        GgmlType::F16
    }
}

fn write_tensor(
    out: &mut impl Write,
    model: &Ct2Model,
    plan: &TensorPlan,
    wtype: WeightType,
) -> Result<()> {
    let var = model.get(&plan.source)?;
    ensure!(
        matches!(var.dtype, Dtype::F16 | Dtype::F32 | Dtype::BF16),
        "'{}' is {:?}, not a float tensor",
        plan.source,
        var.dtype
    );
    if let Some(zero_rows) = plan.must_be_zero {
        let (values, _) = select_rows(var, Some(zero_rows))?;
        ensure!(
            values.iter().all(|v| *v == 0.0),
            "the key bias in '{}' is not zero, and whisper.cpp has no key bias",
            plan.source
        );
        return Ok(());
    }
    let (values, mut shape) = select_rows(var, plan.rows)?;
    if plan.column {
        shape.push(1);
    }
    let ttype = storage_type(plan, &shape, wtype);
    write_tensor_header(out, &plan.name, &shape, ttype)?;
    let data = match ttype {
        GgmlType::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        GgmlType::F16 => values
            .iter()
            .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
            .collect(),
        GgmlType::Q8_0 => quantize_q8_0(&values, *shape.last().unwrap_or(&0))?,
    };
    out.write_all(&data)?;
    Ok(())
}

fn write_tensor_header(
    out: &mut impl Write,
    name: &str,
    shape: &[usize],
    ttype: GgmlType,
) -> Result<()> {
    write_usize(out, shape.len())?;
    write_usize(out, name.len())?;
    write_i32(out, ttype as i32)?;
    for d in shape.iter().rev() {
        write_usize(out, *d)?;
    }
    out.write_all(name.as_bytes())?;
    Ok(())
}

/// ggml's Q8_0: blocks of 32 values along a row, each an f16 scale (max |x| / 127) followed by
/// 32 signed bytes, x / scale rounded half away from zero.
pub fn quantize_q8_0(values: &[f32], row_len: usize) -> Result<Vec<u8>> {
    ensure!(
        row_len > 0 && row_len.is_multiple_of(Q8_0_BLOCK),
        "rows of {row_len} values cannot be split into Q8_0 blocks of {Q8_0_BLOCK}"
    );
    let mut out = Vec::with_capacity(values.len() / Q8_0_BLOCK * (2 + Q8_0_BLOCK));
    for block in values.chunks(Q8_0_BLOCK) {
        let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&half::f16::from_f32(d).to_le_bytes());
        out.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
    }
    Ok(out)
}

/// Reads back what [`convert`] writes; the tests and `copilot-models inspect` use it.
pub mod reader {
    use super::*;

    /// One tensor's header and the byte range of its data in the file.
    #[derive(Debug, Clone)]
    pub struct TensorInfo {
        pub name: String,
        pub ttype: i32,
        /// Innermost first, as in the file.
        pub dims: Vec<usize>,
        pub offset: usize,
        pub nbytes: usize,
    }

    /// The parts of a whisper.cpp file.
    #[derive(Debug)]
    pub struct GgmlFile {
        pub hparams: [i32; 11],
        pub mel_filters: Vec<f32>,
        pub vocab: Vec<Vec<u8>>,
        pub tensors: Vec<TensorInfo>,
    }

    struct Cur<'a> {
        b: &'a [u8],
        pos: usize,
    }

    impl<'a> Cur<'a> {
        fn take(&mut self, n: usize) -> Result<&'a [u8]> {
            let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len());
            let end = end.context("ggml file is truncated")?;
            let s = &self.b[self.pos..end];
            self.pos = end;
            Ok(s)
        }
        fn i32(&mut self) -> Result<i32> {
            let b = self.take(4)?;
            Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }
        fn len(&mut self) -> Result<usize> {
            usize::try_from(self.i32()?).context("negative length in ggml file")
        }
    }

    fn type_bytes(ttype: i32, elements: usize) -> Result<usize> {
        Ok(match ttype {
            0 => elements * 4,
            1 => elements * 2,
            8 => elements / Q8_0_BLOCK * (2 + Q8_0_BLOCK),
            other => bail!("unknown ggml tensor type {other}"),
        })
    }

    pub fn read(bytes: &[u8]) -> Result<GgmlFile> {
        let mut c = Cur { b: bytes, pos: 0 };
        ensure!(c.take(4)? == GGML_MAGIC.to_le_bytes(), "not a ggml file");
        let mut hparams = [0i32; 11];
        for h in hparams.iter_mut() {
            *h = c.i32()?;
        }
        let n = c.len()? * c.len()?;
        let mel_filters = c
            .take(n * 4)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let mut vocab = Vec::new();
        for _ in 0..c.len()? {
            let len = c.len()?;
            vocab.push(c.take(len)?.to_vec());
        }
        let mut tensors = Vec::new();
        while c.pos < bytes.len() {
            let (rank, name_len, ttype) = (c.len()?, c.len()?, c.i32()?);
            let dims = (0..rank).map(|_| c.len()).collect::<Result<Vec<_>>>()?;
            let name = String::from_utf8(c.take(name_len)?.to_vec())?;
            let nbytes = type_bytes(ttype, dims.iter().product())?;
            let offset = c.pos;
            c.take(nbytes)?;
            tensors.push(TensorInfo {
                name,
                ttype,
                dims,
                offset,
                nbytes,
            });
        }
        Ok(GgmlFile {
            hparams,
            mel_filters,
            vocab,
            tensors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::ct2::testing::Ct2Writer;
    use super::*;

    const STATE: usize = 32;
    const MELS: usize = 4;
    const VOCAB: usize = 8;

    fn ramp(n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|i| ((i % 17) as f32 - 8.0) * scale).collect()
    }

    fn add_linear(w: &mut Ct2Writer, name: &str, rows: usize, cols: usize, zero_key: bool) {
        w.f16(
            &format!("{name}/weight"),
            &[rows as u32, cols as u32],
            &ramp(rows * cols, 0.01),
        );
        let mut bias = ramp(rows, 0.1);
        if zero_key {
            let start = if rows == 3 * STATE { STATE } else { 0 };
            bias[start..start + STATE].iter_mut().for_each(|b| *b = 0.0);
        }
        w.f16(&format!("{name}/bias"), &[rows as u32], &bias);
    }

    fn add_norm(w: &mut Ct2Writer, name: &str) {
        w.f16(&format!("{name}/gamma"), &[STATE as u32], &[1.0; STATE]);
        w.f16(&format!("{name}/beta"), &[STATE as u32], &[0.0; STATE]);
    }

    fn add_block(w: &mut Ct2Writer, p: &str, cross: bool) {
        add_norm(w, &format!("{p}/self_attention/layer_norm"));
        add_linear(
            w,
            &format!("{p}/self_attention/linear_0"),
            3 * STATE,
            STATE,
            true,
        );
        add_linear(
            w,
            &format!("{p}/self_attention/linear_1"),
            STATE,
            STATE,
            false,
        );
        if cross {
            add_norm(w, &format!("{p}/attention/layer_norm"));
            add_linear(w, &format!("{p}/attention/linear_0"), STATE, STATE, false);
            add_linear(
                w,
                &format!("{p}/attention/linear_1"),
                2 * STATE,
                STATE,
                true,
            );
            add_linear(w, &format!("{p}/attention/linear_2"), STATE, STATE, false);
        }
        add_norm(w, &format!("{p}/ffn/layer_norm"));
        add_linear(w, &format!("{p}/ffn/linear_0"), 4 * STATE, STATE, false);
        add_linear(w, &format!("{p}/ffn/linear_1"), STATE, 4 * STATE, false);
    }

    /// A one-layer Whisper with 32-wide states and an 8-token vocabulary.
    fn tiny_whisper() -> Vec<u8> {
        let mut w = Ct2Writer::new();
        let s = STATE as u32;
        w.f16(
            "encoder/conv1/weight",
            &[s, MELS as u32, 3],
            &ramp(STATE * MELS * 3, 0.01),
        );
        w.f16("encoder/conv1/bias", &[s], &ramp(STATE, 0.1));
        w.f16(
            "encoder/conv2/weight",
            &[s, s, 3],
            &ramp(STATE * STATE * 3, 0.01),
        );
        w.f16("encoder/conv2/bias", &[s], &ramp(STATE, 0.1));
        w.f16(
            "encoder/position_encodings/encodings",
            &[6, s],
            &ramp(6 * STATE, 0.1),
        );
        w.i16("encoder/num_heads", 2);
        add_block(&mut w, "encoder/layer_0", false);
        add_norm(&mut w, "encoder/layer_norm");
        w.f16(
            "decoder/embeddings/weight",
            &[VOCAB as u32 + 2, s],
            &ramp((VOCAB + 2) * STATE, 0.1),
        );
        w.f16(
            "decoder/position_encodings/encodings",
            &[5, s],
            &ramp(5 * STATE, 0.1),
        );
        w.i16("decoder/num_heads", 2);
        add_block(&mut w, "decoder/layer_0", true);
        add_norm(&mut w, "decoder/layer_norm");
        w.alias("decoder/projection/weight", "decoder/embeddings/weight");
        w.finish()
    }

    fn tiny_tokenizer() -> Vec<u8> {
        let vocab: serde_json::Map<_, _> =
            ["!", "a", "b", "Ġthe", "Ċ", "c", "d", "e", "<|endoftext|>"]
                .iter()
                .enumerate()
                .map(|(i, t)| (t.to_string(), serde_json::json!(i)))
                .collect();
        let doc = serde_json::json!({
            "model": {"type": "BPE", "vocab": vocab},
            "added_tokens": [{"id": VOCAB, "content": "<|endoftext|>"}]
        });
        serde_json::to_vec(&doc).unwrap()
    }

    fn converted(wtype: WeightType) -> Vec<u8> {
        let mut out = Vec::new();
        convert(&tiny_whisper(), &tiny_tokenizer(), wtype, &mut out).unwrap();
        out
    }

    #[test]
    fn header_vocabulary_and_filters_are_written() {
        let file = reader::read(&converted(WeightType::F16)).unwrap();
        assert_eq!(file.hparams, [10, 6, 32, 2, 1, 5, 32, 2, 1, 4, 1]);
        assert_eq!(file.mel_filters.len(), MELS * 201);
        assert_eq!(file.vocab.len(), VOCAB);
        assert_eq!(file.vocab[3], b" the");
        assert_eq!(file.vocab[4], b"\n");
    }

    #[test]
    fn tensors_follow_whisper_cpp_names_and_types() {
        let file = reader::read(&converted(WeightType::Q8_0)).unwrap();
        let get = |n: &str| file.tensors.iter().find(|t| t.name == n).unwrap();
        assert_eq!(get("encoder.conv1.weight").ttype, 1);
        assert_eq!(get("encoder.conv1.weight").dims, vec![3, MELS, STATE]);
        assert_eq!(get("encoder.conv1.bias").dims, vec![1, STATE]);
        assert_eq!(get("encoder.conv1.bias").ttype, 0);
        assert_eq!(get("encoder.positional_embedding").ttype, 0);
        assert_eq!(get("decoder.token_embedding.weight").ttype, 8);
        assert_eq!(get("encoder.blocks.0.attn.key.weight").ttype, 8);
        assert_eq!(get("decoder.blocks.0.cross_attn.value.bias").ttype, 0);
        assert!(file.tensors.iter().all(|t| !t.name.contains("key.bias")));
        assert!(file.tensors.iter().all(|t| !t.name.contains("projection")));
        let names: BTreeSet<_> = file.tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names.len(), file.tensors.len(), "a tensor is written twice");
        // conv and position 5, encoder block 15, ln_post 2, embeddings 2, decoder block 24, ln 2.
        assert_eq!(file.tensors.len(), 5 + 15 + 2 + 2 + 24 + 2);
    }

    #[test]
    fn fused_projection_is_split_by_rows() {
        let bytes = converted(WeightType::F16);
        let file = reader::read(&bytes).unwrap();
        let model_bytes = tiny_whisper();
        let model = Ct2Model::parse(&model_bytes).unwrap();
        let fused = model
            .get("encoder/layer_0/self_attention/linear_0/weight")
            .unwrap()
            .to_f32()
            .unwrap();
        let value = file
            .tensors
            .iter()
            .find(|t| t.name == "encoder.blocks.0.attn.value.weight")
            .unwrap();
        let data = &bytes[value.offset..value.offset + value.nbytes];
        let got: Vec<f32> = data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect();
        assert_eq!(got, fused[2 * STATE * STATE..]);
    }

    #[test]
    fn non_zero_key_bias_is_refused() {
        let mut model = tiny_whisper();
        let model_parsed = Ct2Model::parse(&model).unwrap();
        let bias = model_parsed
            .get("encoder/layer_0/self_attention/linear_0/bias")
            .unwrap();
        let offset = bias.data.as_ptr() as usize - model.as_ptr() as usize + 2 * STATE;
        model[offset + 1] = 0x3c; // one key bias element becomes 1.0 in f16
        let err = convert(&model, &tiny_tokenizer(), WeightType::F16, &mut Vec::new()).unwrap_err();
        assert!(format!("{err:#}").contains("key bias"), "{err:#}");
    }

    #[test]
    fn missing_tensor_and_bad_tokenizer_are_errors() {
        let mut w = Ct2Writer::new();
        w.f16("encoder/conv1/weight", &[1, 1, 3], &[0.0; 3]);
        let err = convert(
            &w.finish(),
            &tiny_tokenizer(),
            WeightType::F16,
            &mut Vec::new(),
        );
        assert!(format!("{:#}", err.unwrap_err()).contains("no variable"));
        let err = convert(
            &tiny_whisper(),
            b"{not json",
            WeightType::F16,
            &mut Vec::new(),
        );
        assert!(format!("{:#}", err.unwrap_err()).contains("not valid JSON"));
    }

    #[test]
    fn q8_0_round_trips_within_half_a_step() {
        let values = ramp(64, 0.37);
        let q = quantize_q8_0(&values, 64).unwrap();
        assert_eq!(q.len(), 2 * 34);
        for (block, chunk) in q.chunks(34).zip(values.chunks(32)) {
            // As in ggml, values are divided by the exact scale; only the stored scale is f16.
            let d = chunk.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
            let stored = half::f16::from_le_bytes([block[0], block[1]]);
            assert_eq!(stored, half::f16::from_f32(d));
            for (qv, v) in block[2..].iter().zip(chunk) {
                assert!(((*qv as i8) as f32 * d - v).abs() <= d * 0.5 + 1e-6);
            }
        }
        assert!(quantize_q8_0(&values, 48).is_err());
    }

    #[test]
    fn mel_filters_are_slaney_normalised_triangles() {
        let f = mel_filters(80);
        assert_eq!(f.len(), 80 * 201);
        // Every filter is non-negative and not empty, and peaks at a single bin.
        for row in f.chunks(201) {
            assert!(row.iter().all(|v| *v >= 0.0));
            assert!(row.iter().any(|v| *v > 0.0));
        }
        // Below 1 kHz the Slaney scale is linear: 200/3 Hz per mel, so the filters there are
        // 2 / (2 * 200/3 * (mel step)) high at most.
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((mel_to_hz(hz_to_mel(3456.0)) - 3456.0).abs() < 1e-9);
    }
}
