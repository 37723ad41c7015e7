//! Numbers written as words: Chinese numerals ("十二万八", "两千", "八五") and English number
//! words ("forty-five thousand"). The date, money and discount readers share them.

/// The value of a Chinese digit character, `两` and `〇` included.
pub(crate) fn zh_digit(c: char) -> Option<u32> {
    let value = match c {
        '零' | '〇' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    };
    Some(value)
}

/// The value of a small Chinese unit character (ten, hundred, thousand).
fn zh_unit(c: char) -> Option<f64> {
    match c {
        '十' => Some(10.0),
        '百' => Some(100.0),
        '千' => Some(1000.0),
        _ => None,
    }
}

/// Reads a whole Chinese numeral. A digit that ends the numeral right after a unit counts in
/// the next lower unit, as speech abbreviates: "十二万八" is 128,000 and "三千五" is 3,500.
/// Digits with no unit between them read positionally ("八五" is 85). Returns `None` when the
/// text is empty or holds anything else.
pub(crate) fn zh_number(text: &str) -> Option<f64> {
    if text.is_empty() {
        return None;
    }
    for (big, scale) in [('亿', 1e8), ('万', 1e4)] {
        if let Some((high, low)) = text.split_once(big) {
            let high = if high.is_empty() {
                1.0
            } else {
                zh_number(high)?
            };
            return Some(high * scale + zh_low_part(low, scale)?);
        }
    }
    zh_section(text)
}

/// The part after `万` or `亿`: empty, a lone abbreviated digit ("八" after 万 is 8,000) or a
/// numeral of its own.
fn zh_low_part(low: &str, scale: f64) -> Option<f64> {
    let mut chars = low.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Some(0.0),
        (Some(c), None) if c != '零' && zh_digit(c).is_some() => {
            Some(f64::from(zh_digit(c)?) * scale / 10.0)
        }
        _ => zh_number(low),
    }
}

/// A numeral under ten thousand, with an optional decimal part after `点`.
fn zh_section(text: &str) -> Option<f64> {
    if let Some((whole, fraction)) = text.split_once('点') {
        let whole = if whole.is_empty() {
            0.0
        } else {
            zh_section(whole)?
        };
        return Some(whole + zh_fraction(fraction)?);
    }
    if text.chars().all(|c| zh_digit(c).is_some()) {
        return text
            .chars()
            .try_fold(0.0, |acc, c| Some(acc * 10.0 + f64::from(zh_digit(c)?)));
    }
    zh_units(text)
}

/// Digits after the decimal point, read one by one.
fn zh_fraction(fraction: &str) -> Option<f64> {
    if fraction.is_empty() {
        return None;
    }
    let mut value = 0.0;
    let mut scale = 0.1;
    for c in fraction.chars() {
        value += f64::from(zh_digit(c)?) * scale;
        scale /= 10.0;
    }
    Some(value)
}

/// A numeral with units ("三千五百", "十五", "一百零五").
fn zh_units(text: &str) -> Option<f64> {
    let mut value = 0.0;
    let mut pending: Option<f64> = None;
    let mut last_unit = 1.0;
    let mut zero_since_unit = false;
    for c in text.chars() {
        if let Some(unit) = zh_unit(c) {
            value += pending.take().unwrap_or(1.0) * unit;
            last_unit = unit;
            zero_since_unit = false;
        } else {
            let digit = zh_digit(c)?;
            zero_since_unit |= digit == 0;
            pending = (digit != 0).then_some(f64::from(digit));
        }
    }
    let tail = match pending {
        Some(d) if !zero_since_unit && last_unit > 1.0 => d * last_unit / 10.0,
        Some(d) => d,
        None => 0.0,
    };
    Some(value + tail)
}

/// The value of one English number word below a hundred, or of a scale word.
fn en_word(word: &str) -> Option<Word> {
    const ONES: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    if let Some(i) = ONES.iter().position(|w| *w == word) {
        return Some(Word::Small(i as f64));
    }
    if let Some(i) = TENS.iter().position(|w| *w == word) {
        return Some(Word::Small(20.0 + 10.0 * i as f64));
    }
    match word {
        "hundred" => Some(Word::Hundred),
        "thousand" => Some(Word::Scale(1e3)),
        "million" => Some(Word::Scale(1e6)),
        "billion" => Some(Word::Scale(1e9)),
        _ => None,
    }
}

enum Word {
    Small(f64),
    Hundred,
    Scale(f64),
}

/// Reads English number words at the start of `words` (lower case, hyphenated compounds
/// already split: "forty", "five", "thousand"). "a" before a scale word counts as one, "and"
/// may join parts. Returns the value and how many words it used, or `None` when the first word
/// is no number.
pub(crate) fn en_number(words: &[&str]) -> Option<(f64, usize)> {
    let (mut total, mut current, mut used, mut any) = (0.0, 0.0, 0, false);
    for (i, word) in words.iter().enumerate() {
        let next_is_scale = words
            .get(i + 1)
            .is_some_and(|w| matches!(en_word(w), Some(Word::Hundred | Word::Scale(_))));
        match en_word(word) {
            Some(Word::Small(v)) => current += v,
            Some(Word::Hundred) if any => current = current.max(1.0) * 100.0,
            Some(Word::Scale(s)) if any => {
                total += current.max(1.0) * s;
                current = 0.0;
            }
            None if *word == "a" && !any && next_is_scale => current = 1.0,
            None if *word == "and" && any && i + 1 < words.len() => continue,
            _ => break,
        }
        any = true;
        used = i + 1;
    }
    any.then_some((total + current, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numerals_read_as_spoken() {
        let cases = [
            ("十二万八", 128_000.0),
            ("十二万八千", 128_000.0),
            ("三千五百", 3_500.0),
            ("三千五", 3_500.0),
            ("十五", 15.0),
            ("一百零五", 105.0),
            ("一万零八", 10_008.0),
            ("两千", 2_000.0),
            ("八五", 85.0),
            ("十二点八万", 128_000.0),
            ("一亿二", 120_000_000.0),
            ("九", 9.0),
        ];
        for (text, want) in cases {
            let got = zh_number(text).unwrap_or(f64::NAN);
            assert!((got - want).abs() < 1e-6, "{text}: {got}");
        }
    }

    #[test]
    fn chinese_non_numerals_are_refused() {
        assert_eq!(zh_number(""), None);
        assert_eq!(zh_number("价格"), None);
        assert_eq!(zh_number("三点"), None);
    }

    #[test]
    fn english_number_words() {
        let words = |s: &'static str| s.split([' ', '-']).collect::<Vec<_>>();
        assert_eq!(
            en_number(&words("forty-five thousand dollars")),
            Some((45_000.0, 3))
        );
        assert_eq!(en_number(&words("two weeks")), Some((2.0, 1)));
        assert_eq!(
            en_number(&words("one hundred and twenty thousand")),
            Some((120_000.0, 5))
        );
        assert_eq!(en_number(&words("a million yuan")), Some((1e6, 2)));
        assert_eq!(en_number(&words("a pump")), None);
        assert_eq!(en_number(&words("hundred")), None);
    }
}
