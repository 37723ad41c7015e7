//! Amounts of money said in a call: "¥128,000", "12.8万", "十二万八", "三千五百块", "$45k",
//! "forty-five thousand dollars", "USD 12,500", "2.5 million yuan".
//!
//! A number is money when a currency mark stands beside it (¥, $, 元, 块, USD, dollars...), or
//! when the utterance talks about money (price, budget, 报价, 预算...) and the number is at
//! least 100 and carries no unit of something else. Such a bare amount has no currency here; the
//! builder gives it the session's default currency if there is one and counts it otherwise.
//! A Chinese amount in 万 or 亿 ("两万六千八") is money without a money word, sales calls
//! being what they are. Numbers followed by a unit ("20台", "3 units", "15%", "12月", "the
//! 15th"), shares ("百分之三十"), approximate "more than" amounts ("十七万出头", "三万多") and
//! plain digit runs of seven or more (phone and registration numbers) are never money without
//! a currency mark. `¥` is
//! read as yuan (CNY), never yen, and a bare `$` as US dollars.

use super::numerals::{en_number, zh_number};
use crate::nlu::text::{find_all, fold, simplify};
use regex::{Captures, Regex};
use std::sync::OnceLock;

/// One amount found in an utterance.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Amount {
    pub value: f64,
    /// ISO 4217 code, or `None` when nothing in the words names the currency.
    pub currency: Option<&'static str>,
}

/// Units that make a number a quantity, a date or a share rather than money.
const NOT_MONEY_UNITS: &[&str] = &[
    "台", "套", "个", "件", "支", "箱", "人", "位", "家", "次", "年", "月", "日", "号", "天", "周",
    "点", "%", "折", "分", "小时", "星期", ":", "-", "units", "unit", "pcs", "pieces", "devices",
    "beds", "people", "years", "year", "months", "month", "weeks", "week", "days", "day", "hours",
    "percent", "am", "pm", "x", "th", "st", "nd", "rd", "出头", "多",
];

/// Words that make an utterance about money, so bare numbers in it count as amounts.
const MONEY_WORDS: &[&str] = &[
    "价",
    "钱",
    "费",
    "预算",
    "成本",
    "付",
    "贵",
    "便宜",
    "金额",
    "总额",
    "price",
    "prices",
    "pricing",
    "cost",
    "costs",
    "budget",
    "quote",
    "quoted",
    "pay",
    "fee",
    "charge",
    "expensive",
    "cheap",
    "cheaper",
    "spend",
    "invoice",
    "total",
    "offer",
];

/// The ISO 4217 code a currency mark or word stands for.
fn currency_code(mark: &str) -> Option<&'static str> {
    let code = match mark.trim() {
        "¥" | "￥" | "元" | "块" | "块钱" | "人民币" | "rmb" | "cny" | "yuan" => "CNY",
        "$" | "us$" | "usd" | "dollar" | "dollars" | "bucks" | "美元" | "美金" => "USD",
        "hk$" | "hkd" | "港币" | "港元" => "HKD",
        "€" | "eur" | "euro" | "euros" | "欧元" => "EUR",
        "£" | "gbp" | "pound" | "pounds" | "英镑" => "GBP",
        _ => return None,
    };
    Some(code)
}

fn multiplier(word: &str) -> f64 {
    match word.trim() {
        "千" | "k" | "thousand" => 1e3,
        "万" => 1e4,
        "百万" | "m" | "mn" | "million" => 1e6,
        "千万" => 1e7,
        "亿" => 1e8,
        "bn" | "billion" => 1e9,
        _ => 1.0,
    }
}

const POST: &str = r"(?P<post>元|块钱|块|人民币|美元|美金|欧元|英镑|港币|港元|\b(?:dollars?|bucks|usd|rmb|cny|yuan|euros?|hkd|eur|gbp|pounds?)\b)?";

fn digit_amounts() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let pattern = format!(
        r"(?P<pre>us\$|hk\$|\$|¥|￥|€|£|\b(?:usd|rmb|cny|hkd|eur|gbp)\b)?\s?(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?(?P<mult>千万|百万|亿|万|千|k\b|mn\b|m\b|bn\b|million\b|thousand\b|billion\b)?\s?{POST}"
    );
    compiled(&RE, &pattern)
}

fn chinese_amounts() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let pattern =
        format!("(?P<num>[一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿点]*){POST}");
    compiled(&RE, &pattern)
}

/// Compiles a constant pattern once. A failure would be a bug: it is logged, and that form of
/// amount is not read.
fn compiled(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| {
        Regex::new(pattern)
            .map_err(|err| tracing::warn!(%err, "a money pattern does not compile"))
            .ok()
    })
    .as_ref()
}

/// Every amount of money said in `text`, in the order said. `asked` says the utterance
/// answers one about money, so its bare numbers count as amounts as if it named money itself.
pub(crate) fn find_amounts(text: &str, asked: bool) -> Vec<Amount> {
    let plain = simplify(text).to_lowercase();
    let about_money = asked || talks_money(text);
    let mut found: Vec<(usize, Amount)> = Vec::new();
    for caps in digit_amounts()
        .into_iter()
        .flat_map(|re| re.captures_iter(&plain))
    {
        found.extend(digit_amount(&plain, &caps, about_money));
    }
    for caps in chinese_amounts()
        .into_iter()
        .flat_map(|re| re.captures_iter(&plain))
    {
        found.extend(chinese_amount(&plain, &caps, about_money));
    }
    found.extend(word_amounts(&plain, about_money));
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, amount)| amount).collect()
}

/// True when the utterance names a price, a cost, a budget or a payment.
pub(crate) fn talks_money(text: &str) -> bool {
    let folded = fold(text);
    MONEY_WORDS.iter().any(|w| {
        if w.chars().any(crate::nlu::text::is_han) {
            folded.contains(w)
        } else {
            !find_all(&folded, w).is_empty()
        }
    })
}

fn digit_amount(plain: &str, caps: &Captures, about_money: bool) -> Option<(usize, Amount)> {
    let whole = caps.get(0)?;
    let num_match = caps.name("num")?;
    let num = num_match.as_str();
    let pre = caps.name("pre").map(|m| m.as_str());
    let post = caps.name("post").map(|m| m.as_str());
    let mult = caps.name("mult").map_or(1.0, |m| multiplier(m.as_str()));
    let value = num.replace(',', "").parse::<f64>().ok()? * mult;
    let currency = pre.or(post).and_then(currency_code);
    let wan = caps
        .name("mult")
        .is_some_and(|m| ["万", "亿", "千万"].contains(&m.as_str()));
    if currency.is_none() {
        let identifier = num.len() >= 7 && num.chars().all(|c| c.is_ascii_digit());
        let glued = plain
            .get(..num_match.start())
            .and_then(|s| s.chars().next_back())
            .is_some_and(|c| c.is_ascii_alphanumeric() || "-.:/#".contains(c));
        if identifier || glued || !bare_amount_counts(plain, whole.end(), value, about_money || wan)
        {
            return None;
        }
    }
    Some((whole.start(), amount(value, currency)))
}

fn chinese_amount(plain: &str, caps: &Captures, about_money: bool) -> Option<(usize, Amount)> {
    let whole = caps.get(0)?;
    let num = caps.name("num")?.as_str();
    let value = zh_number(num)?;
    let currency = caps.name("post").and_then(|m| currency_code(m.as_str()));
    let percent = plain
        .get(..whole.start())
        .is_some_and(|s| s.ends_with("百分之"));
    // Tens of thousands said in 万 are money in a sales call unless a unit says otherwise.
    let wan = num.contains('万') || num.contains('亿');
    if value < 10.0
        || percent
        || (currency.is_none()
            && !bare_amount_counts(plain, whole.end(), value, about_money || wan))
    {
        return None;
    }
    Some((whole.start(), amount(value, currency)))
}

/// English number words followed by a currency word ("forty-five thousand dollars").
fn word_amounts(plain: &str, about_money: bool) -> Vec<(usize, Amount)> {
    let words: Vec<(usize, &str)> = word_spans(plain);
    let texts: Vec<&str> = words.iter().map(|(_, w)| *w).collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < texts.len() {
        let Some((value, used)) = en_number(&texts[i..]) else {
            i += 1;
            continue;
        };
        let next = texts.get(i + used).copied().unwrap_or_default();
        let currency = currency_code(next);
        let end = words.get(i + used).map_or(plain.len(), |(at, _)| *at);
        if currency.is_some()
            || (value >= 100.0 && bare_amount_counts(plain, end, value, about_money))
        {
            found.push((words[i].0, amount(value, currency)));
        }
        i += used;
    }
    found
}

/// The Latin words of a text with their byte offsets, hyphenated compounds split.
fn word_spans(plain: &str) -> Vec<(usize, &str)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (at, c) in plain.char_indices().chain([(plain.len(), ' ')]) {
        match (c.is_ascii_alphabetic(), start) {
            (true, None) => start = Some(at),
            (false, Some(s)) => {
                spans.push((s, plain.get(s..at).unwrap_or_default()));
                start = None;
            }
            _ => {}
        }
    }
    spans
}

/// The smallest number that counts as money without a currency mark. Smaller bare numbers in
/// talk about money are quantities or repeats ("Forty-five." after "$45k", "12 beds").
const BARE_MINIMUM: f64 = 100.0;

/// Whether a number with no currency mark counts as money: the utterance is about money, the
/// amount is at least [`BARE_MINIMUM`], and no unit of something else follows it.
fn bare_amount_counts(plain: &str, end: usize, value: f64, about_money: bool) -> bool {
    let rest = plain.get(end..).unwrap_or_default().trim_start();
    let unit = NOT_MONEY_UNITS.iter().any(|u| {
        rest.starts_with(u) && {
            let after = rest.get(u.len()..).and_then(|s| s.chars().next());
            let word = u.chars().all(|c| c.is_ascii_alphabetic());
            !word || !after.is_some_and(|c| c.is_ascii_alphanumeric())
        }
    });
    about_money && value >= BARE_MINIMUM && !unit
}

fn amount(value: f64, currency: Option<&'static str>) -> Amount {
    Amount {
        value: (value * 100.0).round() / 100.0,
        currency,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amounts(text: &str) -> Vec<(f64, Option<&'static str>)> {
        find_amounts(text, false)
            .into_iter()
            .map(|a| (a.value, a.currency))
            .collect()
    }

    #[test]
    fn chinese_amounts_with_currency() {
        let cases = [
            ("总价¥128,000", 128_000.0),
            ("128000元", 128_000.0),
            ("12.8万元", 128_000.0),
            ("三千五百块", 3_500.0),
            ("两万块钱", 20_000.0),
            ("十二万八千元", 128_000.0),
            ("￥９９９", 999.0),
        ];
        for (text, want) in cases {
            assert_eq!(amounts(text), [(want, Some("CNY"))], "{text}");
        }
    }

    #[test]
    fn english_amounts_with_currency() {
        let cases = [
            ("$45k", 45_000.0, "USD"),
            ("about 45,000 dollars", 45_000.0, "USD"),
            ("forty-five thousand dollars", 45_000.0, "USD"),
            ("USD 12,500 in total", 12_500.0, "USD"),
            ("2.5 million yuan", 2_500_000.0, "CNY"),
            ("€3,200", 3_200.0, "EUR"),
            ("HK$ 8,000", 8_000.0, "HKD"),
        ];
        for (text, want, code) in cases {
            assert_eq!(amounts(text), [(want, Some(code))], "{text}");
        }
    }

    #[test]
    fn bare_amounts_count_only_when_the_talk_is_about_money() {
        assert_eq!(amounts("报价是12.8万"), [(128_000.0, None)]);
        assert_eq!(amounts("这个价格十二万八"), [(128_000.0, None)]);
        assert_eq!(amounts("our price is 45,000"), [(45_000.0, None)]);
        assert_eq!(
            amounts("the budget is two hundred thousand"),
            [(200_000.0, None)]
        );
        assert!(amounts("我们有12.8万个用户").is_empty());
        assert!(amounts("we have 45,000 visitors").is_empty());
    }

    #[test]
    fn numbers_that_are_not_money() {
        let cases = [
            "价格方面，我的电话是13812345678",
            "注册证号国械注准20193060100，价格另谈",
            "12月3日之前付款",
            "先要20台，价格多少",
            "the price for 3 units",
            "pay by 10:30",
            "打个九折的价格",
            "price went up 15%",
            "model PM-12 price",
            "便宜一点",
        ];
        for text in cases {
            assert!(amounts(text).is_empty(), "{text}: {:?}", amounts(text));
        }
    }

    #[test]
    fn several_amounts_come_in_order() {
        assert_eq!(
            amounts("原价15万元，现在12.8万元"),
            [(150_000.0, Some("CNY")), (128_000.0, Some("CNY"))]
        );
    }

    #[test]
    fn huge_text_is_read_in_linear_time() {
        let text = "价格 100元 ".repeat(20_000);
        let started = std::time::Instant::now();
        assert_eq!(find_amounts(&text, false).len(), 20_000);
        assert!(started.elapsed().as_secs() < 5);
    }

    #[test]
    fn shares_ordinals_and_vague_amounts_are_not_money() {
        assert!(amounts("今年先付百分之三十，剩下的明年再付").is_empty());
        assert!(amounts("The quote itself is good until the 15th of next month.").is_empty());
        assert!(amounts("十七万出头，嗯，还是要商量。").is_empty());
    }

    #[test]
    fn wan_amounts_and_answers_to_price_questions_are_money() {
        assert_eq!(
            amounts("单台两万六千八，十台一共26.8万"),
            [(26_800.0, None), (268_000.0, None)]
        );
        assert!(amounts("就是八百八十").is_empty());
        let answer = find_amounts("就是八百八十", true);
        assert_eq!(answer.first().map(|a| a.value), Some(880.0));
    }
}
