//! Test-only: the weights of the packaged Silero ONNX graph, read straight from the wheel that
//! `models/fetch` caches, so the candle port can be checked against onnxruntime on the packaged
//! model exactly as shipped (its weights differ from the pinned safetensors file's).
//!
//! Only what the 16 kHz graph's top-level initializers need is parsed: a protobuf walk over
//! ModelProto.graph (field 7), GraphProto.initializer (5) and each TensorProto's dims (1),
//! data_type (2, 1 = float), name (8) and raw_data (9).

use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

const GRAPH: &str = "silero_vad/data/silero_vad_16k_op15.onnx";

/// ONNX initializer name -> the safetensors name the port loads.
const RENAME: [(&str, &str); 15] = [
    ("model.stft.forward_basis_buffer", "stft_conv.weight"),
    ("model.encoder.0.reparam_conv.weight", "conv1.weight"),
    ("model.encoder.0.reparam_conv.bias", "conv1.bias"),
    ("model.encoder.1.reparam_conv.weight", "conv2.weight"),
    ("model.encoder.1.reparam_conv.bias", "conv2.bias"),
    ("model.encoder.2.reparam_conv.weight", "conv3.weight"),
    ("model.encoder.2.reparam_conv.bias", "conv3.bias"),
    ("model.encoder.3.reparam_conv.weight", "conv4.weight"),
    ("model.encoder.3.reparam_conv.bias", "conv4.bias"),
    ("model.decoder.rnn.weight_ih", "lstm_cell.weight_ih"),
    ("model.decoder.rnn.weight_hh", "lstm_cell.weight_hh"),
    ("model.decoder.rnn.bias_ih", "lstm_cell.bias_ih"),
    ("model.decoder.rnn.bias_hh", "lstm_cell.bias_hh"),
    ("model.decoder.decoder.2.weight", "final_conv.weight"),
    ("model.decoder.decoder.2.bias", "final_conv.bias"),
];

/// The graph's weights under the safetensors names.
pub fn load(wheel: &Path) -> HashMap<String, Tensor> {
    let file = std::fs::File::open(wheel).expect("the silero-vad wheel: run models/fetch");
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let mut bytes = Vec::new();
    archive
        .by_name(GRAPH)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    let graph = fields(&bytes).into_iter().find(|f| f.0 == 7).unwrap().1;
    let mut tensors = HashMap::new();
    for (_, init) in fields(graph).into_iter().filter(|f| f.0 == 5) {
        let (name, tensor) = tensor(init);
        if let Some((_, ours)) = RENAME.iter().find(|(onnx, _)| *onnx == name) {
            tensors.insert(ours.to_string(), tensor);
        }
    }
    assert_eq!(tensors.len(), RENAME.len());
    tensors
}

fn tensor(bytes: &[u8]) -> (String, Tensor) {
    let (mut dims, mut name, mut raw) = (Vec::new(), String::new(), &[][..]);
    for (field, value) in fields(bytes) {
        match field {
            1 => dims.extend(varints(value)),
            2 => assert_eq!(varints(value), vec![1], "only float tensors"),
            8 => name = String::from_utf8(value.to_vec()).unwrap(),
            9 => raw = value,
            _ => {}
        }
    }
    let floats: Vec<f32> = raw
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let shape: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    (name, Tensor::from_vec(floats, shape, &Device::Cpu).unwrap())
}

/// Every field of a message as (number, payload); varints come back as their encoded bytes.
fn fields(mut bytes: &[u8]) -> Vec<(u64, &[u8])> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (key, n) = varint(bytes);
        bytes = &bytes[n..];
        let len = match key & 7 {
            0 => varint(bytes).1,
            1 => 8,
            5 => 4,
            2 => {
                let (len, n) = varint(bytes);
                bytes = &bytes[n..];
                len as usize
            }
            wire => panic!("protobuf wire type {wire}"),
        };
        out.push((key >> 3, &bytes[..len]));
        bytes = &bytes[len..];
    }
    out
}

/// Decodes one varint: its value and its length in bytes.
fn varint(bytes: &[u8]) -> (u64, usize) {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (value, i + 1);
        }
    }
    panic!("cut varint")
}

/// A packed or single varint field's values.
fn varints(mut bytes: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (v, n) = varint(bytes);
        out.push(v);
        bytes = &bytes[n..];
    }
    out
}
