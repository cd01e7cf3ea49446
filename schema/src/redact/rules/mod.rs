//! The rule table, by family. Most vendor credentials are a published literal prefix
//! followed by a fixed or minimum number of characters of one alphabet; those are
//! declared as [`Token`]s, and their regex is built by [`Token::pattern`] so that every
//! one keeps the boundary conventions of `patterns.rs`. The tests generate tokens,
//! near misses and weakened patterns from the same declarations.

mod cloud;
mod generic;
mod identities;
mod saas;

use super::exclusions;
use super::rule::{Rule, rule_if};
use std::borrow::Cow;

/// Every rule, specific ones first, then generic assignments, then the entropy
/// fallback (see `patterns::RULES`).
pub(super) fn all() -> Vec<Rule> {
    let tokens = cloud::TOKENS.iter().chain(saas::TOKENS).map(Token::rule);
    tokens
        .chain(cloud::rules())
        .chain(saas::rules())
        .chain(identities::rules())
        .chain(generic::rules())
        .collect()
}

/// Every declared prefix token, for the tests.
#[cfg(test)]
pub(super) fn tokens() -> impl Iterator<Item = &'static Token> {
    cloud::TOKENS.iter().chain(saas::TOKENS)
}

/// How many characters follow the prefix.
#[derive(Clone, Copy, Debug)]
pub(super) enum Len {
    Exactly(u16),
    AtLeast(u16),
}

/// A credential that starts with a literal prefix (a regex alternation of literals
/// that begins with a word character) followed by `len` characters of `alphabet` (the
/// inside of a regex character class).
#[derive(Debug)]
pub(super) struct Token {
    pub(super) class: &'static str,
    pub(super) prefix: &'static str,
    pub(super) alphabet: &'static str,
    pub(super) len: Len,
}

/// Alphabets of the published formats.
pub(super) const ALNUM: &str = "A-Za-z0-9";
pub(super) const B64URL: &str = "A-Za-z0-9_-";
pub(super) const HEX: &str = "a-f0-9";
pub(super) const UPPER_ALNUM: &str = "A-Z0-9";
pub(super) const LOWER_ALNUM: &str = "a-z0-9";

/// Declares a family's prefix tokens: `class: prefix, alphabet, Exactly(n) | AtLeast(n);`.
macro_rules! declare_tokens {
    ($($class:literal: $prefix:literal, $alphabet:expr, $len:ident($n:literal);)*) => {
        pub(super) static TOKENS: &[super::Token] = &[$(super::Token {
            class: $class,
            prefix: $prefix,
            alphabet: $alphabet,
            len: super::Len::$len($n),
        }),*];
    };
}
pub(super) use declare_tokens;

impl Token {
    /// Whether the alphabet holds only word characters, so `\b` can end a fixed token.
    fn word_only(&self) -> bool {
        let class = regex::Regex::new(&format!("^[{}]$", self.alphabet)).expect("alphabet");
        (0u8..128)
            .filter(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .all(|b| !class.is_match(&char::from(b).to_string()))
    }

    /// `\b(?:prefix)[alphabet]{n}\b`, `\b((?:prefix)[alphabet]{n})(?:[^alphabet]|$)`
    /// when the alphabet has non-word characters, or `\b(?:prefix)[alphabet]{n,}`.
    pub(super) fn pattern(&self) -> String {
        let (prefix, alphabet) = (self.prefix, self.alphabet);
        match self.len {
            Len::AtLeast(n) => format!(r"\b(?:{prefix})[{alphabet}]{{{n},}}"),
            Len::Exactly(n) if self.word_only() => {
                format!(r"\b(?:{prefix})[{alphabet}]{{{n}}}\b")
            }
            Len::Exactly(n) => {
                format!(r"\b((?:{prefix})[{alphabet}]{{{n}}})(?:[^{alphabet}]|$)")
            }
        }
    }

    fn rule(&self) -> Rule {
        rule(self.class, self.pattern())
    }
}

/// Builds a family's list of hand-written rules.
macro_rules! rule_list {
    ($($rule:expr),* $(,)?) => {
        pub(super) fn rules() -> impl Iterator<Item = crate::redact::rule::Rule> {
            [$($rule),*].into_iter()
        }
    };
}
pub(super) use rule_list;

/// A rule whose matches are secrets unless they are placeholders, references or
/// commit shas (see `exclusions.rs`).
pub(super) fn rule(class: &'static str, pattern: impl Into<Cow<'static, str>>) -> Rule {
    rule_if(class, pattern, exclusions::ordinary)
}
