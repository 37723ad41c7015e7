//! The structured call note: its schema, the extractors that fill it (dates, money, discounts,
//! products, competitors, commitments, next steps) and the builder that assembles it from a
//! call's classified utterances.
//!
//! This module uses `nlu` labels and the store's catalogue; it knows no audio.

mod dates;
mod numerals;
mod catalogue;
mod discounts;
mod money;
