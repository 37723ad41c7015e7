//! Chinese script: the core writes Simplified characters unless the caller asks for
//! Traditional (reps in Taiwan or Hong Kong). Whisper often writes Traditional characters for
//! Mandarin, so every text the core hands out passes through here. Conversion uses OpenCC's
//! tables (pure Rust, Apache-2.0); text without Han characters is returned untouched.

use std::sync::OnceLock;

/// Which Chinese characters the core writes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ChineseScript {
    /// Simplified characters, as used in mainland China (the default).
    #[default]
    Simplified,
    /// Traditional characters, as used in Taiwan and Hong Kong.
    Traditional,
}

/// True for a CJK unified ideograph (the Han characters Chinese is written in).
pub(crate) fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// `text` in the script asked for.
pub(crate) fn convert(text: &str, script: ChineseScript) -> String {
    match script {
        ChineseScript::Simplified => to_simplified(text),
        ChineseScript::Traditional => with_table(text, &TO_TRADITIONAL, Table::S2t),
    }
}

/// Traditional characters to Simplified; text without Han is untouched.
pub(crate) fn to_simplified(text: &str) -> String {
    with_table(text, &TO_SIMPLIFIED, Table::T2s)
}

static TO_SIMPLIFIED: OnceLock<Option<ferrous_opencc::OpenCC>> = OnceLock::new();
static TO_TRADITIONAL: OnceLock<Option<ferrous_opencc::OpenCC>> = OnceLock::new();

#[derive(Clone, Copy)]
enum Table {
    T2s,
    S2t,
}

fn with_table(
    text: &str,
    slot: &'static OnceLock<Option<ferrous_opencc::OpenCC>>,
    table: Table,
) -> String {
    if !text.chars().any(is_han) {
        return text.to_string();
    }
    let converter = slot.get_or_init(|| {
        let config = match table {
            Table::T2s => ferrous_opencc::config::BuiltinConfig::T2s,
            Table::S2t => ferrous_opencc::config::BuiltinConfig::S2t,
        };
        ferrous_opencc::OpenCC::from_config(config)
            .map_err(|err| tracing::warn!(%err, "an OpenCC table did not load; script kept"))
            .ok()
    });
    match converter {
        Some(converter) => converter.convert(text),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways_and_leaves_latin_alone() {
        assert_eq!(to_simplified("價格太貴了"), "价格太贵了");
        assert_eq!(
            convert("价格太贵了", ChineseScript::Traditional),
            "價格太貴了"
        );
        assert_eq!(
            convert("price 123", ChineseScript::Traditional),
            "price 123"
        );
        assert_eq!(to_simplified(""), "");
    }
}
