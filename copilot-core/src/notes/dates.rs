//! Dates and deadlines said in a call, resolved to calendar dates against the call's local date.
//!
//! Weeks start on Monday. "Next Friday" and "下周五" mean the Friday of the week after the call's
//! week (said on Wednesday 2026-12-02, both are 2026-12-11, not 12-04); "this Friday" and
//! "这周五" the Friday of the call's week; a bare "Friday" or "周五" the first Friday after the
//! call date. "Next week" and "下周" alone are that week's Monday, "next month" and "下个月(初)"
//! the 1st of the next month, "end of the month" and "月底(前)" its last day, "in two weeks" and
//! "两周后" fourteen days on. A day of the month ("the 15th", "15号") or a month and day
//! ("December 3rd", "12月3日") is the first such date on or after the call date. Vague phrases
//! ("sometime soon", "过几天") resolve to nothing. Text is folded first, so Traditional
//! characters and full-width digits read the same.

use super::numerals::{en_number, zh_number};
use crate::nlu::text::fold;
use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use regex::{Captures, Regex};
use std::sync::OnceLock;

/// One date found in an utterance.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DateMention {
    pub date: NaiveDate,
    /// The words that said it, folded.
    pub phrase: String,
}

type Resolve = fn(&Captures, NaiveDate) -> Option<NaiveDate>;

const EN_WD: &str = "(monday|tuesday|wednesday|thursday|friday|saturday|sunday)";
const ZH_WD: &str = "(?:周|星期|礼拜)([一二三四五六日天])";
const EN_COUNT: &str = r"(\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:a )?couple of)";
const ZH_COUNT: &str = r"(\d{1,3}|[一二两三四五六七八九十]{1,3})";
const EN_MONTH: &str = "(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)";

/// The rules, as (pattern, resolver). Patterns use `{WD}`-style names for the shared pieces.
fn rule_table() -> Vec<(String, Resolve)> {
    let p = |s: &str| {
        s.replace("{EN_WD}", EN_WD)
            .replace("{ZH_WD}", ZH_WD)
            .replace("{EN_COUNT}", EN_COUNT)
            .replace("{ZH_COUNT}", ZH_COUNT)
            .replace("{EN_MONTH}", EN_MONTH)
    };
    let rules: Vec<(&str, Resolve)> = vec![
        (
            r"\bnext weeks? {EN_WD}\b|\bnext {EN_WD}\b|\b{EN_WD} (?:of )?next week\b",
            |c, d| week_day(d, 1, en_weekday(first(c)?)?),
        ),
        (r"\bthis (?:coming )?{EN_WD}\b", |c, d| {
            week_day(d, 0, en_weekday(first(c)?)?)
        }),
        (r"\b{EN_WD}\b", |c, d| after(d, en_weekday(first(c)?)?)),
        ("(下下个?|下个?|这个?|本)?{ZH_WD}", zh_week_day),
        (r"\bnext weekend\b", |_, d| week_day(d, 1, Weekday::Sat)),
        (r"\b(?:this|the) weekend\b", |_, d| {
            week_day(d, 0, Weekday::Sat)
        }),
        ("(下个?|这个?|本)?周末", |c, d| {
            week_day(
                d,
                zh_week_offset(first(c).unwrap_or_default()),
                Weekday::Sat,
            )
        }),
        (r"\btoday\b|\btonight\b|今天|今晚|今日", |_, d| {
            Some(d)
        }),
        (r"\btomorrow\b|明天|明早|明晚|明日", |_, d| {
            d.checked_add_days(Days::new(1))
        }),
        (r"\b(?:the )?day after tomorrow\b|后天", |_, d| {
            d.checked_add_days(Days::new(2))
        }),
        ("大后天", |_, d| d.checked_add_days(Days::new(3))),
        (
            r"\bweek after next\b|下下个?(?:周|星期|礼拜)",
            |_, d| week_day(d, 2, Weekday::Mon),
        ),
        (r"\bnext week\b|下个?(?:周|星期|礼拜)", |_, d| {
            week_day(d, 1, Weekday::Mon)
        }),
        (
            r"\bend of (?:the|this) week\b|(?:本|这个?)(?:周|星期|礼拜)(?:内|之内|以内)",
            |_, d| week_day(d, 0, Weekday::Fri),
        ),
        (
            r"\bend of (?:the |this )?month\b|\bmonth end\b|(?:本|这个?)?月(?:底|末)",
            |_, d| month_end(d, 0),
        ),
        (r"\bend of next month\b|下个?月(?:底|末)", |_, d| {
            month_end(d, 1)
        }),
        (r"\bmid(?:dle of)? next month\b|下个?月中", |_, d| {
            month_day(d, 1, 15)
        }),
        (
            r"\b(?:(?:the )?(?:beginning|start) of |early )?next month\b|下个?月初?",
            |_, d| month_day(d, 1, 1),
        ),
        (
            r"\bend of (?:the |this )?year\b|\byear end\b|年底|年末",
            |_, d| NaiveDate::from_ymd_opt(d.year(), 12, 31),
        ),
        (
            r"\bend of (?:the |this )?quarter\b|\bquarter end\b|季度?(?:末|底)",
            |_, d| month_end(d, 2 - d.month0() % 3),
        ),
        (r"\b(?:in|within) {EN_COUNT} (day|week|month)s?\b", en_span),
        (
            r"\b{EN_COUNT} (day|week|month)s? from (?:now|today)\b",
            en_span,
        ),
        (
            "{ZH_COUNT}个?(天|日|周|星期|礼拜|月)(?:后|之后|以后|内|之内|以内)",
            zh_span,
        ),
        (
            "半个月(?:后|之后|以后|内|之内|以内)",
            |_, d| d.checked_add_days(Days::new(15)),
        ),
        (
            r"\b(?:the|by|on|before|until) (\d{1,2})(?:st|nd|rd|th)\b(?: of this month)?",
            |c, d| next_day_of_month(d, number(first(c)?)?),
        ),
        (
            r"\b(?:the )?(\d{1,2})(?:st|nd|rd|th)? of next month\b",
            |c, d| month_day(d, 1, number(first(c)?)?),
        ),
        ("(这个?|本|下个?)月{ZH_COUNT}(?:号|日)", |c, d| {
            let months = u32::from(c.get(1)?.as_str().starts_with('下'));
            month_day(d, months, number(c.get(2)?.as_str())?)
        }),
        ("{ZH_COUNT}(?:号|日)", |c, d| {
            next_day_of_month(d, number(first(c)?)?)
        }),
        (r"\b{EN_MONTH} (\d{1,2})(?:st|nd|rd|th)?\b", |c, d| {
            next_month_day(d, en_month(first(c)?)?, number(c.get(2)?.as_str())?)
        }),
        (
            r"\b(?:the )?(\d{1,2})(?:st|nd|rd|th)? (?:of )?{EN_MONTH}\b",
            |c, d| next_month_day(d, en_month(c.get(2)?.as_str())?, number(first(c)?)?),
        ),
        ("{ZH_COUNT}月{ZH_COUNT}(?:号|日)", |c, d| {
            next_month_day(d, number(first(c)?)?, number(c.get(2)?.as_str())?)
        }),
        ("{ZH_COUNT}月(初|中|底|末)", zh_month_part),
        (
            r"(\d{4})年(\d{1,2})月(\d{1,2})(?:号|日)?|\b(20\d\d) (\d{1,2}) (\d{1,2})\b",
            |c, _| {
                let n = |i: usize, j: usize| {
                    c.get(i)
                        .or_else(|| c.get(j))
                        .and_then(|m| number(m.as_str()))
                };
                NaiveDate::from_ymd_opt(n(1, 4)? as i32, n(2, 5)?, n(3, 6)?)
            },
        ),
    ];
    rules.into_iter().map(|(s, r)| (p(s), r)).collect()
}

fn rules() -> &'static [(Regex, Resolve)] {
    static RULES: OnceLock<Vec<(Regex, Resolve)>> = OnceLock::new();
    RULES.get_or_init(|| {
        rule_table()
            .into_iter()
            .filter_map(|(pattern, resolve)| match Regex::new(&pattern) {
                Ok(re) => Some((re, resolve)),
                Err(err) => {
                    tracing::warn!(%err, "a date rule does not compile and is skipped");
                    None
                }
            })
            .collect()
    })
}

/// Every date said in `text`, in the order said, resolved against `today` (the call's local
/// date). Where phrases overlap, the one that starts first (then the longest) is read.
pub(crate) fn find_dates(text: &str, today: NaiveDate) -> Vec<DateMention> {
    let folded = fold(text);
    // A phrase that names an impossible date ("2月30日") still covers its words, so that no
    // shorter rule reads a part of it ("30日").
    let mut spans: Vec<(usize, usize, Option<NaiveDate>)> = Vec::new();
    for (re, resolve) in rules() {
        for caps in re.captures_iter(&folded) {
            if let Some(whole) = caps.get(0) {
                spans.push((whole.start(), whole.end(), resolve(&caps, today)));
            }
        }
    }
    spans.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
    let mut mentions = Vec::new();
    let mut reached = 0;
    for (start, end, date) in spans {
        if start < reached {
            continue;
        }
        reached = end;
        let Some(date) = date else { continue };
        let phrase = folded.get(start..end).unwrap_or_default().to_string();
        mentions.push(DateMention { date, phrase });
    }
    mentions
}

/// The first group that took part in the match (rules with alternatives number them apart).
fn first<'t>(c: &Captures<'t>) -> Option<&'t str> {
    c.iter().skip(1).flatten().next().map(|m| m.as_str())
}

/// A count written in digits, English words or Chinese numerals.
fn number(text: &str) -> Option<u32> {
    if let Ok(n) = text.parse::<u32>() {
        return Some(n);
    }
    let words: Vec<&str> = text.split(' ').collect();
    let value = match en_number(&words) {
        Some((v, used)) if used == words.len() => v,
        _ if text == "a" || text == "an" => 1.0,
        _ if text.ends_with("couple of") => 2.0,
        _ => zh_number(text)?,
    };
    (0.0..10_000.0).contains(&value).then_some(value as u32)
}

fn en_weekday(name: &str) -> Option<Weekday> {
    name.parse().ok()
}

fn zh_weekday(c: &str) -> Option<Weekday> {
    let weekday = match c {
        "一" => Weekday::Mon,
        "二" => Weekday::Tue,
        "三" => Weekday::Wed,
        "四" => Weekday::Thu,
        "五" => Weekday::Fri,
        "六" => Weekday::Sat,
        "日" | "天" => Weekday::Sun,
        _ => return None,
    };
    Some(weekday)
}

fn en_month(name: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let prefix = name.get(..3)?;
    NAMES
        .iter()
        .position(|m| *m == prefix)
        .map(|i| i as u32 + 1)
}

/// Weeks ahead a Chinese prefix means: 下下 two, 下 one, 这 or 本 none.
fn zh_week_offset(prefix: &str) -> u64 {
    if prefix.starts_with("下下") {
        2
    } else if prefix.starts_with('下') {
        1
    } else {
        0
    }
}

/// 下周五, 这周五, 周五: with a prefix, that week's day; bare, the first such day after today.
fn zh_week_day(c: &Captures, today: NaiveDate) -> Option<NaiveDate> {
    let weekday = zh_weekday(c.get(2)?.as_str())?;
    match c.get(1) {
        Some(prefix) => week_day(today, zh_week_offset(prefix.as_str()), weekday),
        None => after(today, weekday),
    }
}

/// The given day of the week `weeks` weeks after the week of `today`.
fn week_day(today: NaiveDate, weeks: u64, weekday: Weekday) -> Option<NaiveDate> {
    let monday =
        today.checked_sub_days(Days::new(today.weekday().num_days_from_monday().into()))?;
    monday.checked_add_days(Days::new(
        weeks * 7 + u64::from(weekday.num_days_from_monday()),
    ))
}

/// The first `weekday` strictly after `today`.
fn after(today: NaiveDate, weekday: Weekday) -> Option<NaiveDate> {
    let ahead = (weekday.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
    today.checked_add_days(Days::new(if ahead == 0 { 7 } else { ahead.into() }))
}

/// The last day of the month `months` months after today's.
fn month_end(today: NaiveDate, months: u32) -> Option<NaiveDate> {
    month_day(today, months + 1, 1)?.pred_opt()
}

/// Day `day` of the month `months` months after today's.
fn month_day(today: NaiveDate, months: u32, day: u32) -> Option<NaiveDate> {
    let first = today.with_day(1)?.checked_add_months(Months::new(months))?;
    first.with_day(day)
}

/// The first day `day` of a month on or after today.
fn next_day_of_month(today: NaiveDate, day: u32) -> Option<NaiveDate> {
    (0..3)
        .filter_map(|m| month_day(today, m, day))
        .find(|date| *date >= today)
}

/// The first `month`/`day` on or after today.
fn next_month_day(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    (0..2)
        .filter_map(|y| NaiveDate::from_ymd_opt(today.year() + y, month, day))
        .find(|date| *date >= today)
}

/// 12月初, 12月中, 12月底: the 1st, the 15th or the last day of the first such month from now.
fn zh_month_part(c: &Captures, today: NaiveDate) -> Option<NaiveDate> {
    let month = number(first(c)?)?;
    let ahead = (month + 12 - today.month()) % 12;
    match c.get(2)?.as_str() {
        "初" => month_day(today, ahead, 1),
        "中" => month_day(today, ahead, 15),
        _ => month_end(today, ahead),
    }
}

fn span(today: NaiveDate, count: u32, unit: &str) -> Option<NaiveDate> {
    match unit {
        "day" | "天" | "日" => today.checked_add_days(Days::new(count.into())),
        "week" | "周" | "星期" | "礼拜" => {
            today.checked_add_days(Days::new(u64::from(count) * 7))
        }
        _ => today.checked_add_months(Months::new(count)),
    }
}

fn en_span(c: &Captures, today: NaiveDate) -> Option<NaiveDate> {
    span(today, number(first(c)?)?, c.get(2)?.as_str())
}

fn zh_span(c: &Captures, today: NaiveDate) -> Option<NaiveDate> {
    span(today, number(first(c)?)?, c.get(2)?.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wednesday 2 December 2026.
    fn wednesday() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default()
    }

    fn one(text: &str) -> Option<String> {
        let found = find_dates(text, wednesday());
        assert!(found.len() <= 1, "{text}: {found:?}");
        found.first().map(|m| m.date.to_string())
    }

    #[test]
    fn english_relative_dates() {
        let cases = [
            ("let's talk next Friday", "2026-12-11"),
            ("this Friday works", "2026-12-04"),
            ("I can do Friday", "2026-12-04"),
            ("I'll send it tomorrow", "2026-12-03"),
            ("the day after tomorrow", "2026-12-04"),
            ("by the end of the month", "2026-12-31"),
            ("in two weeks", "2026-12-16"),
            ("within 3 days", "2026-12-05"),
            ("by the 15th", "2026-12-15"),
            ("on December 3rd", "2026-12-03"),
            ("3 January", "2027-01-03"),
            ("early next month", "2027-01-01"),
            ("end of next month", "2027-01-31"),
            ("next week", "2026-12-07"),
            ("end of the quarter", "2026-12-31"),
            ("2027-01-20", "2027-01-20"),
        ];
        for (text, want) in cases {
            assert_eq!(one(text).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn chinese_relative_dates() {
        let cases = [
            ("我们下周五再联系", "2026-12-11"),
            ("这周五给您答复", "2026-12-04"),
            ("明天发报价", "2026-12-03"),
            ("后天可以", "2026-12-04"),
            ("大后天", "2026-12-05"),
            ("月底前确认", "2026-12-31"),
            ("两周后再看", "2026-12-16"),
            ("15号之前", "2026-12-15"),
            ("1号", "2027-01-01"),
            ("12月3日到货", "2026-12-03"),
            ("下个月初安排培训", "2027-01-01"),
            ("下个月15号", "2027-01-15"),
            ("下下周三", "2026-12-16"),
            ("下個星期五", "2026-12-11"),
            ("三天之内", "2026-12-05"),
            ("十五号", "2026-12-15"),
            ("2027年1月8日", "2027-01-08"),
            ("１２月３号", "2026-12-03"),
        ];
        for (text, want) in cases {
            assert_eq!(one(text).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn next_friday_said_on_a_friday_is_a_week_later() {
        let friday = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap_or_default();
        let found = find_dates("next Friday then", friday);
        assert_eq!(
            found.first().map(|m| m.date.to_string()).as_deref(),
            Some("2026-12-11")
        );
        let found = find_dates("周五", friday);
        assert_eq!(
            found.first().map(|m| m.date.to_string()).as_deref(),
            Some("2026-12-11")
        );
    }

    #[test]
    fn vague_phrases_resolve_to_nothing() {
        for text in [
            "sometime soon",
            "later this year maybe",
            "过几天再说",
            "改天吧",
            "",
            "20台",
        ] {
            assert_eq!(one(text), None, "{text}");
        }
    }

    #[test]
    fn impossible_dates_resolve_to_nothing() {
        assert_eq!(one("2月30日"), None);
        assert_eq!(one("by the 45th"), None);
    }

    #[test]
    fn two_dates_in_one_utterance_come_in_order() {
        let found = find_dates("not Friday, let's say next Tuesday", wednesday());
        let dates: Vec<String> = found.iter().map(|m| m.date.to_string()).collect();
        assert_eq!(dates, ["2026-12-04", "2026-12-08"]);
    }

    #[test]
    fn huge_text_is_read_in_linear_time() {
        let text = "明天 ".repeat(20_000);
        let started = std::time::Instant::now();
        assert_eq!(find_dates(&text, wednesday()).len(), 20_000);
        assert!(started.elapsed().as_secs() < 5);
    }
}
