//! Products and competitors named in a call, matched against the catalogue the session reads
//! from the store.
//!
//! Matching is on folded text, so it is blind to script (監護儀 is 监护仪), width and case.
//! A product is named by its Chinese or English name, its id or its registration number, or by
//! part of a name: three or more Chinese characters of its Chinese name ("监护仪"), the last two
//! or more words of its English name ("patient monitor"), or one long word of it ("the
//! ultrasound"; words under eight letters, such as "patient", are too often ordinary speech).
//! A competitor is named by its full name or its brand: the first word of an English name of two
//! or more words ("Northbridge"), the first two characters of a Chinese name of four or more
//! ("康泰"). A part shared by several entries ("监护仪" with two monitors in the catalogue)
//! names none of them: the note does not guess. Matching costs the number of name parts times
//! the length of the call; a catalogue of thousands of products would want an automaton.

use crate::nlu::text::{find_all, fold, is_han};
use std::collections::HashMap;

/// A product of the catalogue, as the store keeps it.
#[derive(Debug, Clone, Default)]
pub(crate) struct CatalogueProduct {
    pub id: String,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub registration_no: Option<String>,
}

/// What a call can name: the products and the competitors the store knows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalogue {
    pub products: Vec<CatalogueProduct>,
    pub competitors: Vec<String>,
}

/// A catalogue entry a text names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Named {
    /// The product at this position of [`Catalogue::products`].
    Product(usize),
    /// The competitor at this position of [`Catalogue::competitors`].
    Competitor(usize),
}

/// The longest Chinese name whose parts are all indexed; longer names match whole only.
const MAX_PART_CHARS: usize = 16;
/// The fewest letters of a single English word that names a product on its own.
const MIN_WORD_LETTERS: usize = 8;

/// The catalogue's names and name parts, each with the entries it names.
pub(crate) struct Matcher {
    keys: Vec<(String, Named)>,
}

impl Catalogue {
    /// Indexes the names; parts shared by several entries are left out.
    pub(crate) fn matcher(&self) -> Matcher {
        let mut keys: HashMap<String, Vec<Named>> = HashMap::new();
        let mut add = |key: String, named: Named| {
            if key.chars().count() >= 2 {
                let entry = keys.entry(key).or_default();
                if !entry.contains(&named) {
                    entry.push(named);
                }
            }
        };
        for (i, product) in self.products.iter().enumerate() {
            for key in product_keys(product) {
                add(key, Named::Product(i));
            }
        }
        for (i, name) in self.competitors.iter().enumerate() {
            for key in competitor_keys(name) {
                add(key, Named::Competitor(i));
            }
        }
        let mut keys: Vec<(String, Named)> = keys
            .into_iter()
            .filter_map(|(key, named)| match named.as_slice() {
                [one] => Some((key, *one)),
                _ => None,
            })
            .collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        Matcher { keys }
    }
}

impl Matcher {
    /// The entries `text` names, each once, in catalogue order.
    pub(crate) fn find(&self, text: &str) -> Vec<Named> {
        let folded = fold(text);
        let mut found: Vec<Named> = self
            .keys
            .iter()
            .filter(|(key, _)| !find_all(&folded, key).is_empty())
            .map(|(_, named)| *named)
            .collect();
        found.sort_by_key(|n| match n {
            Named::Product(i) => (0, *i),
            Named::Competitor(i) => (1, *i),
        });
        found.dedup();
        found
    }
}

fn product_keys(product: &CatalogueProduct) -> Vec<String> {
    let mut keys = vec![fold(&product.id)];
    keys.extend(product.registration_no.as_deref().map(fold));
    if let Some(zh) = product.name_zh.as_deref() {
        keys.push(fold(zh));
        keys.extend(han_parts(&fold(zh)));
    }
    if let Some(en) = product.name_en.as_deref() {
        keys.extend(english_parts(&fold(en)));
    }
    keys
}

/// Runs of three or more characters inside a Chinese name.
fn han_parts(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() > MAX_PART_CHARS || !chars.iter().all(|c| is_han(*c)) {
        return Vec::new();
    }
    let mut parts = Vec::new();
    for start in 0..chars.len() {
        for end in start + 3..=chars.len() {
            parts.push(chars[start..end].iter().collect());
        }
    }
    parts
}

/// The whole English name, its endings of two or more words, and its long words, with plurals.
fn english_parts(name: &str) -> Vec<String> {
    let words: Vec<&str> = name.split(' ').filter(|w| !w.is_empty()).collect();
    let mut parts = vec![name.to_string()];
    for start in 1..words.len().saturating_sub(1) {
        parts.push(words[start..].join(" "));
    }
    parts.extend(
        words
            .iter()
            .filter(|w| w.chars().count() >= MIN_WORD_LETTERS)
            .map(|w| w.to_string()),
    );
    let plurals: Vec<String> = parts.iter().map(|p| format!("{p}s")).collect();
    parts.extend(plurals);
    parts
}

/// The competitor's full name and its brand.
fn competitor_keys(name: &str) -> Vec<String> {
    let folded = fold(name);
    let mut keys = vec![folded.clone()];
    let chars: Vec<char> = folded.chars().collect();
    if chars.len() >= 4 && chars.iter().take(2).all(|c| is_han(*c)) {
        keys.push(chars[..2].iter().collect());
    }
    let words: Vec<&str> = folded.split(' ').collect();
    if let [first, _, ..] = words.as_slice() {
        if first.chars().count() >= 4 {
            keys.push(first.to_string());
        }
    }
    keys
}

#[cfg(test)]
pub(crate) mod testing {
    //! A catalogue like the bundled distributor's.
    use super::*;

    fn product(id: &str, zh: &str, en: &str, reg: &str) -> CatalogueProduct {
        CatalogueProduct {
            id: id.into(),
            name_zh: Some(zh.into()),
            name_en: Some(en.into()),
            registration_no: Some(reg.into()),
        }
    }

    /// Two monitors, an ultrasound, two pumps and three competitors.
    pub(crate) fn catalogue() -> Catalogue {
        Catalogue {
            products: vec![
                product(
                    "US-M7",
                    "便携式彩色超声诊断仪",
                    "Portable colour ultrasound system",
                    "国械注准20193060100",
                ),
                product(
                    "PM-12",
                    "多参数病人监护仪",
                    "Multi-parameter patient monitor",
                    "国械注准20203060137",
                ),
                product(
                    "IP-3",
                    "输液泵",
                    "Volumetric infusion pump",
                    "国械注准20213060174",
                ),
                product("SP-5", "注射泵", "Syringe pump", "国械注准20223060211"),
                product(
                    "DF-2",
                    "除颤监护仪",
                    "Defibrillator monitor",
                    "国械注准20233060248",
                ),
            ],
            competitors: vec![
                "康泰医疗".into(),
                "Northbridge Medical".into(),
                "华瑞医械".into(),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::catalogue;
    use super::*;

    fn names(text: &str) -> Vec<Named> {
        catalogue().matcher().find(text)
    }

    #[test]
    fn full_names_ids_and_registration_numbers() {
        assert_eq!(names("我们看中的是多参数病人监护仪"), [Named::Product(1)]);
        assert_eq!(
            names("the Syringe Pump and the US-M7"),
            [Named::Product(0), Named::Product(3)]
        );
        assert_eq!(names("注册证号国械注准20213060174"), [Named::Product(2)]);
    }

    #[test]
    fn partial_names_script_and_case_blind() {
        assert_eq!(names("how much is the ultrasound?"), [Named::Product(0)]);
        assert_eq!(names("彩色超聲的價格"), [Named::Product(0)]);
        assert_eq!(names("超聲診斷儀的價格"), [Named::Product(0)]);
        assert_eq!(names("the PATIENT MONITORS"), [Named::Product(1)]);
        assert_eq!(names("病人监护仪"), [Named::Product(1)]);
        assert_eq!(names("an infusion pump"), [Named::Product(2)]);
    }

    #[test]
    fn a_part_shared_by_two_products_names_neither() {
        assert!(names("你们的监护仪怎么样").is_empty());
        assert!(names("the monitor").is_empty());
        assert!(names("the pump").is_empty());
    }

    #[test]
    fn ordinary_words_are_not_products() {
        assert!(names("please be patient with us").is_empty());
        assert!(names("this system is fine").is_empty());
    }

    #[test]
    fn competitors_by_name_and_brand() {
        assert_eq!(names("康泰的报价更低"), [Named::Competitor(0)]);
        assert_eq!(names("Northbridge offered less"), [Named::Competitor(1)]);
        assert_eq!(names("華瑞醫械也在談"), [Named::Competitor(2)]);
        assert!(names("medical devices").is_empty());
    }

    #[test]
    fn an_empty_catalogue_names_nothing() {
        assert!(Catalogue::default()
            .matcher()
            .find("监护仪 ultrasound")
            .is_empty());
    }
}
