//! Text folding: the one form in which utterances, phrases and patterns are compared.
//!
//! Sales ops write a phrase once ("这个价格真没法再降了", "can't go any lower") and it has to
//! match what a keyboard, a chat app or speech recognition produced: full-width letters,
//! Traditional characters (Whisper writes them for much Mandarin speech), capitals, curly
//! apostrophes, missing spaces. Folding makes all of those one string, so matching is a plain
//! substring search with a boundary check for Latin words (Chinese has no word boundaries).

pub(crate) use crate::script::is_han;
pub(crate) use crate::script::to_simplified;

/// Marks a clause break (sentence punctuation) in folded text. Negation does not reach across it.
pub(crate) const CLAUSE: char = '|';

/// Folds text for matching: Traditional to Simplified, full-width to half-width, lower case,
/// apostrophes dropped, sentence punctuation to [`CLAUSE`], other symbols to spaces, runs of
/// spaces to one, and no spaces beside Chinese characters.
pub(crate) fn fold(text: &str) -> String {
    let simplified = to_simplified(text);
    let mut marked = String::with_capacity(simplified.len());
    for c in simplified.chars().map(half_width) {
        match c {
            '\'' | '\u{2018}' | '\u{2019}' | '`' => {}
            c if c.is_alphanumeric() => marked.extend(c.to_lowercase()),
            c if is_clause_mark(c) => marked.push_str(" | "),
            _ => marked.push(' '),
        }
    }
    squeeze(&marked)
}

/// Traditional characters to Simplified and full-width forms to half-width, and nothing else:
/// for readers that need the punctuation and digits that [`fold`] drops ("¥128,000").
pub(crate) fn simplify(text: &str) -> String {
    to_simplified(text).chars().map(half_width).collect()
}

/// True when `c` is a letter or digit that belongs to a Latin-script word (so a match must not
/// start or end inside it).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_han(c)
}

/// Finds `needle` in `hay` (both folded) at word boundaries: a Latin word is never matched
/// inside a longer word, Chinese characters match anywhere. Returns the byte offsets of starts.
pub(crate) fn find_all(hay: &str, needle: &str) -> Vec<usize> {
    if needle.is_empty() {
        return Vec::new();
    }
    hay.match_indices(needle)
        .map(|(at, _)| at)
        .filter(|&at| at_boundary(hay, at, at + needle.len()))
        .collect()
}

/// True when the span `start..end` of `hay` neither begins nor ends in the middle of a word.
pub(crate) fn at_boundary(hay: &str, start: usize, end: usize) -> bool {
    let before = hay.get(..start).and_then(|s| s.chars().next_back());
    let first = hay.get(start..).and_then(|s| s.chars().next());
    let last = hay.get(..end).and_then(|s| s.chars().next_back());
    let after = hay.get(end..).and_then(|s| s.chars().next());
    let joined = |a: Option<char>, b: Option<char>| match (a, b) {
        (Some(a), Some(b)) => is_word_char(a) && is_word_char(b),
        _ => false,
    };
    !joined(before, first) && !joined(last, after)
}

fn is_clause_mark(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | '!' | '?' | ';' | ':' | '。' | '，' | '！' | '？' | '；' | '：' | '、' | '…'
    )
}

/// Full-width ASCII forms and the ideographic space to their half-width forms.
fn half_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// Collapses whitespace, drops it beside Han characters, and keeps one clause mark between
/// clauses and none at the ends.
fn squeeze(marked: &str) -> String {
    let mut words: Vec<&str> = Vec::new();
    for word in marked.split_whitespace() {
        let mark = word == "|";
        if mark && words.last().is_none_or(|w| *w == "|") {
            continue;
        }
        words.push(word);
    }
    if words.last() == Some(&"|") {
        words.pop();
    }
    let mut out = String::with_capacity(marked.len());
    let mut prev: Option<&str> = None;
    for word in words {
        let glue = prev.is_some_and(|p| {
            p.chars().next_back().is_some_and(is_han) || word.chars().next().is_some_and(is_han)
        });
        if prev.is_some() && !glue {
            out.push(' ');
        }
        out.push_str(word);
        prev = Some(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_case_script_and_punctuation() {
        assert_eq!(fold("ＴＯＯ Expensive！"), "too expensive");
        assert_eq!(
            fold("價格太貴了，能不能便宜一點？"),
            "价格太贵了|能不能便宜一点"
        );
        assert_eq!(fold("We can’t go   lower."), "we cant go lower");
        assert_eq!(fold("ok 那我们 下周 demo 一下"), "ok那我们下周demo一下");
        assert_eq!(fold("no, not this week"), "no | not this week");
    }

    #[test]
    fn latin_words_match_whole_han_anywhere() {
        assert!(find_all("the price is too high", "price").len() == 1);
        assert!(find_all("the prices are", "price").is_empty());
        assert_eq!(find_all("这个价格太贵了", "太贵").len(), 1);
    }

    #[test]
    fn odd_input_folds_without_panic() {
        assert_eq!(fold(""), "");
        assert_eq!(fold("\u{0}\u{7}😀😀"), "");
        assert_eq!(fold("...!!!"), "");
        let _ = fold(&"价".repeat(100_000));
    }
}
