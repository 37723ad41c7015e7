//! Voice activity: Silero VAD run in candle, and the detector that turns its per-window speech
//! probabilities into speech spans.
//!
//! Only speech is sent to the recogniser: silence then costs nothing, and Whisper never gets the
//! chance to invent text ("Thank you for watching") over a silent or noisy stretch. The model is
//! the pinned `silero-vad-16k.safetensors`, run whole as the package's ONNX graph runs it: every
//! 512-sample window (32 ms at 16 kHz) is prefixed with the 64 samples before it and
//! reflect-padded by 64, a 256-point STFT done as a strided convolution gives 4 frames of
//! magnitudes, four convolutions with ReLU reduce them to one 128-vector, an LSTM cell carries
//! its state from window to window, and a 1x1 convolution with a sigmoid gives the probability.

mod segment;

pub(crate) use segment::{SegmentRules, Segmenter, SpeechSpan};

use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Samples per model window at 16 kHz.
pub(crate) const WINDOW: usize = 512;
/// Samples of the previous window the model sees before each window.
const CONTEXT: usize = 64;
/// Width of the LSTM state and of the encoder's output.
const HIDDEN: usize = 128;
/// Frequency bins of the 256-point STFT.
const BINS: usize = 129;

/// Every tensor of the model file with its shape (the names of the package's tinygrad model).
const TENSORS: [(&str, &[usize]); 15] = [
    ("stft_conv.weight", &[2 * BINS, 1, 256]),
    ("conv1.weight", &[128, BINS, 3]),
    ("conv1.bias", &[128]),
    ("conv2.weight", &[64, 128, 3]),
    ("conv2.bias", &[64]),
    ("conv3.weight", &[64, 64, 3]),
    ("conv3.bias", &[64]),
    ("conv4.weight", &[128, 64, 3]),
    ("conv4.bias", &[128]),
    ("lstm_cell.weight_ih", &[4 * HIDDEN, HIDDEN]),
    ("lstm_cell.weight_hh", &[4 * HIDDEN, HIDDEN]),
    ("lstm_cell.bias_ih", &[4 * HIDDEN]),
    ("lstm_cell.bias_hh", &[4 * HIDDEN]),
    ("final_conv.weight", &[1, HIDDEN, 1]),
    ("final_conv.bias", &[1]),
];

/// One encoder convolution (kernel 3, padding 1) followed by ReLU.
struct Conv {
    weight: Tensor,
    bias: Tensor,
    stride: usize,
}

/// The loaded Silero VAD weights; shared by every detector.
pub(crate) struct SileroVad {
    stft: Tensor,
    encoder: [Conv; 4],
    /// Input and recurrent weights, transposed for `x @ w`, gates in PyTorch order (i, f, g, o).
    w_ih: Tensor,
    w_hh: Tensor,
    lstm_bias: Tensor,
    head_weight: Tensor,
    head_bias: Tensor,
}

/// What the model carries from one window to the next.
pub(crate) struct VadState {
    h: Tensor,
    c: Tensor,
    context: [f32; CONTEXT],
}

fn vad_error(e: candle_core::Error) -> Error {
    Error::Vad(e.to_string())
}

impl SileroVad {
    /// Loads and checks the model file (it must hold every tensor with its expected shape).
    pub fn load(path: &Path) -> Result<SileroVad> {
        let load_error = |reason: String| Error::ModelLoad {
            path: path.to_path_buf(),
            reason,
        };
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)
            .map_err(|e| load_error(e.to_string()))?;
        check_tensors(&tensors).map_err(load_error)?;
        Self::from_tensors(&tensors).map_err(|e| load_error(e.to_string()))
    }

    fn from_tensors(t: &HashMap<String, Tensor>) -> candle_core::Result<SileroVad> {
        let get = |name: &str| -> candle_core::Result<Tensor> {
            t.get(name)
                .ok_or_else(|| candle_core::Error::Msg(format!("no tensor {name}")))?
                .to_dtype(DType::F32)
        };
        let conv = |n: usize, stride: usize| -> candle_core::Result<Conv> {
            let bias = get(&format!("conv{n}.bias"))?;
            let channels = bias.dim(0)?;
            Ok(Conv {
                weight: get(&format!("conv{n}.weight"))?,
                bias: bias.reshape((1, channels, 1))?,
                stride,
            })
        };
        let lstm_bias = (get("lstm_cell.bias_ih")? + get("lstm_cell.bias_hh")?)?;
        Ok(SileroVad {
            stft: get("stft_conv.weight")?,
            encoder: [conv(1, 1)?, conv(2, 2)?, conv(3, 2)?, conv(4, 1)?],
            w_ih: get("lstm_cell.weight_ih")?.t()?.contiguous()?,
            w_hh: get("lstm_cell.weight_hh")?.t()?.contiguous()?,
            lstm_bias: lstm_bias.reshape((1, 4 * HIDDEN))?,
            head_weight: get("final_conv.weight")?.reshape((HIDDEN, 1))?,
            head_bias: get("final_conv.bias")?.reshape((1, 1))?,
        })
    }

    /// A fresh state, as at the start of a recording.
    pub fn start(&self) -> Result<VadState> {
        let zeros = || Tensor::zeros((1, HIDDEN), DType::F32, &Device::Cpu).map_err(vad_error);
        Ok(VadState {
            h: zeros()?,
            c: zeros()?,
            context: [0.0; CONTEXT],
        })
    }

    /// The probability that one [`WINDOW`] of 16 kHz samples is speech; advances `state`.
    pub fn probability(&self, state: &mut VadState, window: &[f32]) -> Result<f32> {
        if window.len() != WINDOW {
            return Err(Error::Vad(format!(
                "a window is {WINDOW} samples, not {}",
                window.len()
            )));
        }
        let input = framed(&state.context, window);
        let features = self.encode(&input).map_err(vad_error)?;
        let (prob, h, c) = self.decode(&features, state).map_err(vad_error)?;
        state.h = h;
        state.c = c;
        state
            .context
            .copy_from_slice(&input[WINDOW..WINDOW + CONTEXT]);
        Ok(prob)
    }

    /// STFT magnitudes through the four convolutions: one 128-vector per window.
    fn encode(&self, input: &[f32]) -> candle_core::Result<Tensor> {
        let x = Tensor::from_slice(input, (1, 1, input.len()), &Device::Cpu)?;
        let spectrum = x.conv1d(&self.stft, 0, 128, 1, 1)?;
        let real = spectrum.narrow(1, 0, BINS)?;
        let imag = spectrum.narrow(1, BINS, BINS)?;
        let mut y = (real.sqr()? + imag.sqr()?)?.sqrt()?;
        for conv in &self.encoder {
            y = y
                .conv1d(&conv.weight, 1, conv.stride, 1, 1)?
                .broadcast_add(&conv.bias)?
                .relu()?;
        }
        y.reshape((1, HIDDEN))
    }

    /// The LSTM cell and the head: the probability and the new state.
    fn decode(&self, x: &Tensor, state: &VadState) -> candle_core::Result<(f32, Tensor, Tensor)> {
        let gates = (x.matmul(&self.w_ih)? + state.h.matmul(&self.w_hh)?)?
            .broadcast_add(&self.lstm_bias)?;
        let gate = |k: usize| gates.narrow(1, k * HIDDEN, HIDDEN);
        let input = candle_nn::ops::sigmoid(&gate(0)?)?;
        let forget = candle_nn::ops::sigmoid(&gate(1)?)?;
        let cell = gate(2)?.tanh()?;
        let output = candle_nn::ops::sigmoid(&gate(3)?)?;
        let c = ((forget * &state.c)? + (input * cell)?)?;
        let h = (output * c.tanh()?)?;
        let logit = h
            .relu()?
            .matmul(&self.head_weight)?
            .broadcast_add(&self.head_bias)?;
        let prob = candle_nn::ops::sigmoid(&logit)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let prob = prob.first().copied().unwrap_or(0.0);
        Ok((prob, h, c))
    }
}

/// The context, the window and a 64-sample reflection of the window's end, as the model reads.
fn framed(context: &[f32; CONTEXT], window: &[f32]) -> Vec<f32> {
    let mut input = Vec::with_capacity(CONTEXT + WINDOW + CONTEXT);
    input.extend_from_slice(context);
    input.extend_from_slice(window);
    let last = input.len() - 1;
    for k in 1..=CONTEXT {
        let sample = input.get(last - k).copied().unwrap_or(0.0);
        input.push(sample);
    }
    input
}

fn check_tensors(tensors: &HashMap<String, Tensor>) -> std::result::Result<(), String> {
    for (name, shape) in TENSORS {
        let tensor = tensors
            .get(name)
            .ok_or_else(|| format!("it has no tensor {name}; is it the Silero VAD file?"))?;
        if tensor.dims() != shape {
            return Err(format!("{name} is {:?}, expected {shape:?}", tensor.dims()));
        }
    }
    Ok(())
}

/// Finds speech in one channel of 16 kHz audio pushed in pieces of any size.
pub(crate) struct VoiceDetector {
    model: Arc<SileroVad>,
    state: VadState,
    pending: Vec<f32>,
    segmenter: Segmenter,
    samples: u64,
}

impl VoiceDetector {
    /// A detector at the start of a recording.
    pub fn new(model: Arc<SileroVad>, rules: SegmentRules) -> Result<VoiceDetector> {
        Ok(VoiceDetector {
            state: model.start()?,
            model,
            pending: Vec::with_capacity(WINDOW),
            segmenter: Segmenter::new(rules),
            samples: 0,
        })
    }

    /// Takes more audio; returns the speech spans that ended within what has been seen.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<SpeechSpan>> {
        self.samples += samples.len() as u64;
        let mut spans = Vec::new();
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (WINDOW - self.pending.len()).min(rest.len());
            let (head, tail) = rest.split_at(take);
            self.pending.extend_from_slice(head);
            rest = tail;
            if self.pending.len() == WINDOW {
                spans.extend(self.window()?);
            }
        }
        Ok(spans)
    }

    /// Ends the recording (the last window padded with silence); returns the last spans.
    pub fn finish(&mut self) -> Result<Vec<SpeechSpan>> {
        let mut spans = Vec::new();
        if !self.pending.is_empty() {
            self.pending.resize(WINDOW, 0.0);
            spans.extend(self.window()?);
        }
        spans.extend(self.segmenter.finish(self.samples));
        Ok(spans)
    }

    /// Where the span in progress started (its first speech window, in samples), if one is.
    pub fn open_since(&self) -> Option<u64> {
        self.segmenter.open_since()
    }

    fn window(&mut self) -> Result<Option<SpeechSpan>> {
        let prob = self.model.probability(&mut self.state, &self.pending)?;
        let energy = rms(&self.pending);
        self.pending.clear();
        Ok(self.segmenter.push(prob, energy))
    }
}

fn rms(samples: &[f32]) -> f32 {
    let sum: f32 = samples.iter().map(|s| s * s).sum();
    (sum / samples.len().max(1) as f32).sqrt()
}

#[cfg(test)]
mod onnx_weights;
#[cfg(test)]
mod tests;
