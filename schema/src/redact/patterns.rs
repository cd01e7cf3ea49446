//! Credential and identity patterns. (Placeholder set; extended in place.)

use super::{Finding, Fingerprint, marker};
use regex::Regex;
use std::borrow::Cow;

pub(super) struct PatternSet {
    rules: Vec<(&'static str, Regex)>,
}

impl PatternSet {
    pub(super) fn compile() -> Self {
        let rules = [("aws-access-key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")]
            .into_iter()
            .map(|(c, p)| (c, Regex::new(p).expect("pattern compiles")))
            .collect();
        Self { rules }
    }

    pub(super) fn redact<'a>(&self, text: &'a str, findings: &mut Vec<Finding>) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for (class, re) in &self.rules {
            if re.is_match(&out) {
                let replaced = re
                    .replace_all(&out, |c: &regex::Captures| {
                        let fp = Fingerprint::of(&c[0]);
                        findings.push(Finding { class, fingerprint: fp.clone() });
                        marker(&fp)
                    })
                    .into_owned();
                out = Cow::Owned(replaced);
            }
        }
        out
    }
}
