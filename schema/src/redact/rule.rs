//! What a rule is: a class name, a pattern and how its matches are accepted, and the
//! [`Candidate`] its acceptance test is handed. The table is in `rules/`; the matcher
//! that applies it in `patterns.rs`.

use std::borrow::Cow;
use std::ops::Range;

/// A located secret and the text it was found in, handed to a rule's acceptance test.
pub(super) struct Candidate<'t> {
    pub(super) text: &'t str,
    /// Where the whole regex match starts (the key of an assignment, if any).
    pub(super) match_start: usize,
    pub(super) secret: Range<usize>,
}

impl<'t> Candidate<'t> {
    pub(super) fn secret(&self) -> &'t str {
        &self.text[self.secret.clone()]
    }

    /// The matched text before the secret: the key and operator of an assignment.
    pub(super) fn context(&self) -> &'t str {
        &self.text[self.match_start..self.secret.start]
    }

    /// The rest of the secret's line.
    pub(super) fn rest_of_line(&self) -> &'t str {
        let rest = &self.text[self.secret.end..];
        rest.split(['\n', '\r']).next().unwrap_or("")
    }
}

/// How a rule decides which matches are secrets.
#[derive(Clone, Copy)]
pub(super) enum Accept {
    /// The capture group (or whole match) is the secret if the test passes.
    If(fn(&Candidate) -> bool),
    /// The test lists the secrets inside the capture group (or whole match); each must
    /// also pass [`exclusions::ordinary`].
    Split(fn(&str, Range<usize>, &mut Vec<Range<usize>>)),
}

/// A hand-written finder that appends exactly the ranges `find_iter` of its rule's
/// pattern would report (a property test holds it to that).
pub(super) type Scan = fn(&str, &mut Vec<Range<usize>>);

/// One detector: a class name reported in [`Finding`]s, a pattern, and how to accept.
/// A rule with a [`Scan`] matches almost every text (the entropy fallback matches URL
/// paths), so it skips the prefilter and finds its matches with the scanner instead.
pub(super) struct Rule {
    pub(super) class: &'static str,
    pub(super) pattern: Cow<'static, str>,
    pub(super) accept: Accept,
    pub(super) scan: Option<Scan>,
}

pub(super) fn rule_if(
    class: &'static str,
    pattern: impl Into<Cow<'static, str>>,
    test: fn(&Candidate) -> bool,
) -> Rule {
    Rule {
        class,
        pattern: pattern.into(),
        accept: Accept::If(test),
        scan: None,
    }
}
