//! Tests of the detector.
//!
//! Every rule has one [`Case`]: realistic samples, near misses, a generator of valid
//! tokens, and a weakened copy of its pattern. [`verify`] checks, with one shared
//! property ([`redacts_exactly`]), that the real rule replaces every generated token
//! exactly, and that the weakened copy fails the same property on some generated token,
//! which proves the property test would catch that weakening. Prefix tokens declared in
//! `rules/` get their case generated from the declaration ([`token_case`]).

mod corpus;
mod generic;
mod identities;
mod shapes;
mod vendor;

use super::patterns::{Compiled, RULES};
use super::rule::Rule;
use super::rules::{Len, Token, tokens};
use super::{Fingerprint, Redactor, marker, patterns::replace};
use crate::keys::{DeploymentKey, PurposeKey};

/// The fingerprint key of the tests' deployment.
pub(super) fn test_key() -> PurposeKey {
    DeploymentKey::from_bytes([42; 32]).fingerprints()
}

/// The redactor of the tests' deployment.
pub(super) fn redactor() -> Redactor {
    Redactor::new(test_key())
}

/// A fingerprint in the tests' deployment.
pub(super) fn fp(matched: &str) -> Fingerprint {
    Fingerprint::keyed(&test_key(), matched)
}
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestCaseError, TestRng, TestRunner};
use std::collections::BTreeSet;

/// How many generated tokens the real property and the weakened copy are run on.
const SAMPLES: u32 = 64;
/// How many of them are also run through the whole redactor.
const GLOBAL_SAMPLES: u32 = 16;

struct Case {
    class: &'static str,
    /// Generates valid tokens of the rule's format (the secret only, no context).
    token: BoxedStrategy<String>,
    /// `(before, after)` texts the token is embedded in; every one is checked.
    contexts: &'static [(&'static str, &'static str)],
    /// Realistic secrets, checked like generated ones.
    samples: Vec<String>,
    /// Texts on which the rule must not fire.
    near_misses: Vec<String>,
    /// `(from, to)`: the weakened copy replaces the first `from` in the pattern.
    weaken: (String, String),
}

/// A hand-written case; see [`Case`] for the fields.
macro_rules! case {
    (class: $class:literal, token: $token:expr, contexts: $contexts:expr,
     samples: [$($s:expr),* $(,)?], near_misses: [$($n:expr),* $(,)?],
     weaken: ($from:expr, $to:expr) $(,)?) => {
        super::Case {
            class: $class,
            token: $token,
            contexts: $contexts,
            samples: vec![$(String::from($s)),*],
            near_misses: vec![$(String::from($n)),*],
            weaken: (String::from($from), String::from($to)),
        }
    };
}
use case;

/// Declares a module's cases once: `cases()` lists them and each gets its own `#[test]`.
macro_rules! rule_cases {
    ($($test:ident: $case:expr;)*) => {
        pub(super) fn cases() -> Vec<super::Case> {
            vec![$($case),*]
        }
        $(
            #[test]
            fn $test() {
                super::verify($case);
            }
        )*
    };
}
use rule_cases;

/// A generator from a regex of valid tokens.
fn re(pattern: &str) -> BoxedStrategy<String> {
    proptest::string::string_regex(pattern)
        .expect("generator regex parses")
        .boxed()
}

/// The contexts every prefix token is checked in: plain, quoted, JSON, YAML, env,
/// shell, TOML, prose, parentheses, URL query, XML, trailing comma, header.
const CONTEXTS: &[(&str, &str)] = &[
    ("", ""),
    ("\"", "\""),
    ("{\"token\": \"", "\"}"),
    ("token: ", "\n"),
    ("API_KEY=", "\n"),
    ("export SERVICE_TOKEN=", "; ./deploy.sh"),
    ("token = \"", "\"\n"),
    ("the deploy used ", " until Friday."),
    ("(", ")"),
    ("https://api.example.com/v1?token=", "&page=2"),
    ("<token>", "</token>"),
    ("[\"", "\",\n"),
    ("Authorization: Bearer ", "\r\n"),
];

fn rule_of(class: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.class == class)
        .unwrap_or_else(|| panic!("no rule {class}"))
}

fn compiled(class: &'static str, pattern: &str) -> Compiled {
    Compiled::with_pattern(rule_of(class), pattern)
}

/// Redacts with one rule, through the production span and merge code.
fn redact_with(rule: &Compiled, text: &str) -> String {
    let mut spans = Vec::new();
    rule.collect(0, text, &mut spans);
    replace(text, spans, &test_key(), &mut Vec::new()).into_owned()
}

/// Redacts with every rule.
fn redact(text: &str) -> String {
    redactor().redact(text, &mut Vec::new()).into_owned()
}

/// The shared property: in every context, the token is replaced by exactly its marker
/// and nothing else changes.
fn redacts_exactly(rule: &Compiled, token: &str, contexts: &[(&str, &str)]) -> Result<(), String> {
    let replacement = marker(&fp(token));
    for (before, after) in contexts {
        let text = format!("{before}{token}{after}");
        let got = redact_with(rule, &text);
        if got != format!("{before}{replacement}{after}") {
            return Err(format!("{text:?} was redacted to {got:?}"));
        }
    }
    Ok(())
}

/// An 8-byte window of `secret` that survives in `output`, if any. Windows that also
/// occur in the text around the secret (`context`, e.g. a shared `https://`) prove
/// nothing and are skipped.
fn leaked<'s>(output: &str, secret: &'s str, context: &str) -> Option<&'s str> {
    (0..secret.len().saturating_sub(7))
        .filter(|&i| secret.is_char_boundary(i) && secret.is_char_boundary(i + 8))
        .map(|i| &secret[i..i + 8])
        .find(|w| output.contains(w) && !context.contains(w))
}

/// The whole redactor may widen a span by merging, so it is held to "no 8-byte window
/// of the secret survives" rather than to an exact output.
fn global_does_not_leak(token: &str, contexts: &[(&str, &str)]) -> Result<(), String> {
    for (before, after) in contexts {
        let text = format!("{before}{token}{after}");
        let out = redact(&text);
        if let Some(w) = leaked(&out, token, &format!("{before}{after}")) {
            return Err(format!("{w:?} survived in {out:?}"));
        }
    }
    Ok(())
}

fn verify(case: Case) {
    assert!(
        case.contexts.len() >= 10,
        "{}: too few contexts",
        case.class
    );
    let pattern: &str = &rule_of(case.class).pattern;
    let real = compiled(case.class, pattern);
    for sample in &case.samples {
        redacts_exactly(&real, sample, case.contexts).unwrap();
        global_does_not_leak(sample, case.contexts).unwrap();
    }
    for text in &case.near_misses {
        assert_eq!(redact_with(&real, text), *text, "{} fired", case.class);
    }

    let config = Config {
        cases: SAMPLES,
        failure_persistence: None,
        ..Config::default()
    };
    // A fixed seed: the exclusions reject a few shapes (repeats, dotted paths) a random
    // generator can produce by chance, and a build must not fail on a lucky draw.
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    // The whole redactor is slower to run, so it sees the first `GLOBAL_SAMPLES` tokens.
    let seen = std::cell::Cell::new(0);
    TestRunner::new_with_rng(config, rng)
        .run(&case.token, |token| {
            seen.set(seen.get() + 1);
            redacts_exactly(&real, &token, case.contexts)
                .and_then(|()| match seen.get() <= GLOBAL_SAMPLES {
                    true => global_does_not_leak(&token, case.contexts),
                    false => Ok(()),
                })
                .map_err(TestCaseError::fail)
        })
        .unwrap_or_else(|e| panic!("{}: {e}", case.class));

    let (from, to) = &case.weaken;
    assert!(
        pattern.contains(from.as_str()),
        "{}: {from:?} not in pattern",
        case.class
    );
    let weak = compiled(case.class, &pattern.replacen(from.as_str(), to, 1));
    let mut runner = TestRunner::deterministic();
    let caught = (0..SAMPLES).any(|_| {
        let token = case.token.new_tree(&mut runner).unwrap().current();
        redacts_exactly(&weak, &token, case.contexts).is_err()
    });
    assert!(
        caught,
        "{}: weakened pattern passed the property",
        case.class
    );
}

/// One value of a strategy, deterministically.
fn one(strategy: &BoxedStrategy<String>) -> String {
    strategy
        .new_tree(&mut TestRunner::deterministic())
        .unwrap()
        .current()
}

/// The case of a declared prefix token: tokens of the declared shape in [`CONTEXTS`];
/// near misses one character short and with the prefix's letters in the other case; the weakened copy asks for one more character.
fn token_case(t: &'static Token) -> Case {
    let shape =
        |n: u16, extra: u16| format!("(?:{})[{}]{{{n},{}}}", t.prefix, t.alphabet, n + extra);
    let (n, extra, from, to) = match t.len {
        Len::Exactly(n) => (n, 0, format!("{{{n}}}"), format!("{{{}}}", n + 1)),
        Len::AtLeast(n) => (n, 8, format!("{{{n},}}"), format!("{{{},}}", n + 1)),
    };
    let short = one(&re(&shape(n - 1, 0)));
    let mut near_misses = vec![short];
    let prefix = one(&re(&format!("(?:{})", t.prefix)));
    let body = one(&re(&format!("[{}]{{{n}}}", t.alphabet)));
    let flipped: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    if flipped != prefix {
        near_misses.push(format!("{flipped}{body}"));
    }
    Case {
        class: t.class,
        token: re(&shape(n, extra)),
        contexts: CONTEXTS,
        samples: Vec::new(),
        near_misses,
        weaken: (from, to),
    }
}

#[test]
fn declared_prefix_tokens() {
    for t in tokens() {
        verify(token_case(t));
    }
}

/// Every case: the hand-written ones and one per declared token.
fn cases() -> Vec<Case> {
    let mut all = identities::cases();
    all.extend(vendor::cases());
    all.extend(generic::cases());
    all.extend(tokens().map(token_case));
    all
}

#[test]
fn every_rule_has_exactly_one_case() {
    let rules: Vec<_> = RULES.iter().map(|r| r.class).collect();
    let unique: BTreeSet<_> = rules.iter().copied().collect();
    assert_eq!(unique.len(), rules.len(), "rule classes are unique");
    let cases: Vec<_> = cases().iter().map(|c| c.class).collect();
    assert_eq!(cases.iter().copied().collect::<BTreeSet<_>>(), unique);
    assert_eq!(cases.len(), rules.len());
    assert!(rules.len() >= 100, "{} rule classes", rules.len());
}
