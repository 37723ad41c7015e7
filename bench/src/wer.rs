//! Word error counting as the fixtures' transcripts are written: lower case, punctuation
//! dropped, hyphenated words split, "Mr." said as "mister".
//!
//! The ASR tests in `copilot-core/tests` include this file too, so both count the same way.

/// The words a person would count in a transcript.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace("mr.", "mister")
        .split(|c: char| c.is_whitespace() || c == '-')
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word-level edit distance (substitutions, insertions and deletions).
pub fn distance(a: &[String], b: &[String]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, wa) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, wb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(wa != wb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits_after_normalising() {
        assert_eq!(
            distance(
                &words("Mr. Ill-disposed man"),
                &words("mister ill disposed man")
            ),
            0
        );
        assert_eq!(distance(&words("a b c"), &words("a x c d")), 2);
        assert_eq!(distance(&words(""), &words("one two")), 2);
    }
}
