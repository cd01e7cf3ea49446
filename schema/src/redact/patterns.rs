//! The matcher that applies the rule table (`rules/`).
//!
//! Each rule is a regex; the secret is its first capture group that took part in the
//! match, or the whole match when the regex has no groups (groups let a rule require
//! context, such as `aws_secret_access_key =`, without redacting the context). A rule
//! that cannot say where its secrets are with one group (a Kubernetes `data:` map, an
//! entropy run that may hold a `name=` or a URL path) splits its match instead.
//!
//! Conventions that keep a secret from being cut short:
//! - fixed-length tokens end in `\b`, or, when their alphabet has non-word characters,
//!   in a consumed `(?:[^…]|$)` outside the group; a token that continues past its
//!   nominal length is therefore not matched at all rather than matched in part (the
//!   entropy fallback then sees the whole run);
//! - variable-length tokens are greedy over their whole alphabet, so they end where the
//!   run ends;
//! - leading boundaries are zero-width (`\b`) where the alphabet allows, so consecutive
//!   matches of one rule never compete for a separator character; the generic
//!   assignments consume theirs, which is safe because their values stop before, not
//!   after, a closing quote;
//! - whitespace around an assignment operator is `[ \t]*`, never `\s*`: an empty value
//!   must not reach into the next line.
//!
//! Linear time: a [`RegexSet`] over every rule but the entropy fallback scans the text
//! once and says which rules match anywhere; clean text costs that one scan and the
//! fallback's byte scanner ([`Scan`]). Only the rules that matched are run
//! again to locate their matches. Each regex search is linear in the input (the regex
//! crate has no backtracking). Iterating over matches stays linear as long as no search
//! scans past the match it reports into text where another match could begin (see the
//! regex crate's "Iterating over matches"); the rules keep to that: greedy runs end where
//! their match ends, the one open-ended lookahead (a URL password, which may contain
//! `@`) stops at the `/` every URL match needs, and the age plugin name is at most 32
//! characters. Splitters and acceptance tests look at most a fixed window around their
//! match. Overall: O(rules × input) with a fixed rule count.

use super::rule::{Accept, Candidate, Rule, Scan};
use super::{Finding, Fingerprint, exclusions, is_marker, marker, rules};
use crate::keys::PurposeKey;
use regex::{Regex, RegexSet};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

/// The rule table, in naming order: when matches start at the same place, the longer
/// one wins and then the earlier rule, so specific rules come before the generic ones
/// and the entropy fallback is last.
pub(super) static RULES: LazyLock<Vec<Rule>> = LazyLock::new(rules::all);

/// A compiled rule.
pub(super) struct Compiled {
    class: &'static str,
    regex: Regex,
    accept: Accept,
    scan: Option<Scan>,
}

impl Compiled {
    pub(super) fn new(rule: &Rule) -> Self {
        Self::with_pattern(rule, &rule.pattern)
    }

    /// The rule with another pattern (the tests weaken patterns to show they matter).
    pub(super) fn with_pattern(rule: &Rule, pattern: &str) -> Self {
        let class = rule.class;
        let regex = Regex::new(&ascii_boundaries(pattern))
            .unwrap_or_else(|e| panic!("rule {class} does not compile: {e}"));
        Self {
            class,
            regex,
            accept: rule.accept,
            scan: rule.scan.filter(|_| pattern == rule.pattern),
        }
    }

    /// Appends the byte range of every accepted secret in `text`.
    pub(super) fn collect(&self, rank: usize, text: &str, spans: &mut Vec<Span>) {
        let mut found = Found {
            rule: self,
            rank,
            text,
            spans,
            parts: Vec::new(),
        };
        if let Some(scan) = self.scan {
            let mut runs = Vec::new();
            scan(text, &mut runs);
            for run in runs {
                found.accept(run.start, run);
            }
            return;
        }
        let grouped = self.regex.captures_len() > 1;
        // Matches are found by the fast (DFA) search; groups are resolved only where a
        // match is, by the slower capturing search restarted at its start, which finds
        // the same leftmost match again.
        for whole in self.regex.find_iter(text) {
            let secret = if grouped {
                self.regex
                    .captures_at(text, whole.start())
                    .and_then(|caps| caps.iter().skip(1).flatten().next())
            } else {
                Some(whole)
            };
            if let Some(m) = secret {
                found.accept(whole.start(), m.range());
            }
        }
    }
}

/// The spans one rule is collecting.
struct Found<'c, 't> {
    rule: &'c Compiled,
    rank: usize,
    text: &'t str,
    spans: &'c mut Vec<Span>,
    parts: Vec<Range<usize>>,
}

impl Found<'_, '_> {
    /// Applies the rule's acceptance to one match. A secret that is exactly a marker (a
    /// quoted value redacted before) is skipped.
    fn accept(&mut self, match_start: usize, secret: Range<usize>) {
        let text = self.text;
        if secret.is_empty() || is_marker(&text[secret.clone()]) {
            return;
        }
        self.parts.clear();
        match self.rule.accept {
            Accept::If(test) => {
                let candidate = Candidate {
                    text,
                    match_start,
                    secret: secret.clone(),
                };
                if test(&candidate) {
                    self.parts.push(secret);
                }
            }
            Accept::Split(split) => {
                split(text, secret, &mut self.parts);
                self.parts.retain(|r| {
                    exclusions::ordinary(&Candidate {
                        text,
                        match_start: r.start,
                        secret: r.clone(),
                    })
                });
            }
        }
        let (rank, class) = (self.rank, self.rule.class);
        self.spans.extend(self.parts.drain(..).map(|r| Span {
            start: r.start,
            end: r.end,
            rank,
            class,
        }));
    }
}

/// `\b` as an ASCII word boundary: every boundary in the table sits next to an ASCII
/// character, and a Unicode `\b` would stop the lazy DFA on non-ASCII text.
fn ascii_boundaries(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
}

/// A located secret; `rank` is the rule's index, used to name merged spans.
#[derive(Debug)]
pub(super) struct Span {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) rank: usize,
    pub(super) class: &'static str,
}

pub(super) struct PatternSet {
    /// Every rule without a scanner; the set's pattern `i` is rule `filtered[i]`.
    prefilter: RegexSet,
    filtered: Vec<usize>,
    /// The rules with a scanner, run on every text.
    scanned: Vec<usize>,
    rules: Vec<Compiled>,
}

/// The prefilter's lazy-DFA cache: one set of 140 rules has many states, and a cache
/// that must be flushed and rebuilt while scanning falls back to a far slower search.
const PREFILTER_CACHE: usize = 64 << 20;

impl PatternSet {
    pub(super) fn compile() -> Self {
        let (scanned, filtered): (Vec<usize>, Vec<usize>) =
            (0..RULES.len()).partition(|&i| RULES[i].scan.is_some());
        let prefilter = regex::RegexSetBuilder::new(
            filtered
                .iter()
                .map(|&i| ascii_boundaries(&RULES[i].pattern)),
        )
        .dfa_size_limit(PREFILTER_CACHE)
        .build()
        .expect("the rule table compiles as a set");
        let rules = RULES.iter().map(Compiled::new).collect();
        Self {
            prefilter,
            filtered,
            scanned,
            rules,
        }
    }

    fn spans(&self, text: &str) -> Vec<Span> {
        let mut spans = Vec::new();
        // Most texts (names, cells, versions) match no rule. Asking only whether any
        // matches spares them the set of which: a table of every rule's flag, built,
        // walked and freed per text (`bench ingest`: 6 % of the service at c64).
        if self.prefilter.is_match(text) {
            let matched = self.prefilter.matches(text);
            for i in matched.iter().map(|m| self.filtered[m]) {
                self.rules[i].collect(i, text, &mut spans);
            }
        }
        for &i in &self.scanned {
            self.rules[i].collect(i, text, &mut spans);
        }
        spans
    }

    pub(super) fn redact<'a>(
        &self,
        text: &'a str,
        key: &PurposeKey,
        findings: &mut Vec<Finding>,
    ) -> Cow<'a, str> {
        replace(text, self.spans(text), key, findings)
    }

    pub(super) fn finds_any(&self, text: &str) -> bool {
        !self.spans(text).is_empty()
    }
}

/// Replaces the union of `spans` with markers. Overlapping spans are merged first, so
/// a marker always covers every byte any rule flagged and no part of a secret survives.
pub(super) fn replace<'a>(
    text: &'a str,
    mut spans: Vec<Span>,
    key: &PurposeKey,
    findings: &mut Vec<Finding>,
) -> Cow<'a, str> {
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort_unstable_by_key(|s| (s.start, std::cmp::Reverse(s.end), s.rank));
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut iter = spans.into_iter().peekable();
    while let Some(mut cur) = iter.next() {
        while let Some(next) = iter.next_if(|n| n.start < cur.end) {
            cur.end = cur.end.max(next.end);
        }
        let fingerprint = Fingerprint::keyed(key, &text[cur.start..cur.end]);
        out.push_str(&text[copied..cur.start]);
        out.push_str(&marker(&fingerprint));
        findings.push(Finding {
            class: cur.class,
            fingerprint,
        });
        copied = cur.end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}
