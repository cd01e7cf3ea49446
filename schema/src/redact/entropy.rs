//! The entropy fallback's acceptance test for unknown token shapes.
//!
//! The `high-entropy` rule finds runs of 32+ base64/base64url characters and `=`
//! (`[A-Za-z0-9+/_=-]`, not starting with `/` or `=`); [`random_parts`] says which part
//! of a run is a secret:
//! - a leading `name=` (an identifier, as in `DD_API_KEY=…` or `X-Amz-Signature=…`) is
//!   context, not secret, and is left out; an `=` between two random parts is inside
//!   the token, so the whole token is one secret;
//! - a run that holds a lowercase path word (`job`, `deploy`, `console`) is a URL
//!   or file path: only its random segments are secrets, and the path stays readable;
//! - otherwise the run is a secret when [`looks_random`] accepts it.
//!
//! A candidate is a secret when its Shannon entropy is at least [`MIN_BITS_PER_CHAR`]
//! (the design record's threshold) and it does not look like words glued by separators.
//! The second condition exists because long URL paths and branch names
//! ("com/acme-corp/platform-infrastructure/actions/runs/…") reach 4.5–4.8 bits/char.
//! Two structural tests reject them:
//! - a random token has a run of [`MIN_SEGMENT`] characters without a path separator
//!   (`/`, `-`, `_`); paths and branch names are made of short words;
//! - less than half of a random token is covered by word-like runs (`[A-Z]?[a-z]{3,}`,
//!   4+ characters, sayable); camel-case identifiers and paths are mostly words.
//!
//! Three tests let random tokens back in: one with a `+` (entropy alone decides), one
//! whose letters mix case as random text does ([`mixes_case`]), and one with three
//! digits or more standing inside letters ([`digits_inside`]: in place of the
//! word-like guard, and of both guards when only `/` cuts the token, as in standard
//! base64; build and branch names, cut by `-` and `_`, keep the segment guard); only
//! word-like runs that can be said aloud count as words ([`pronounceable`]); a run
//! counts as a path only with two path words, or one that makes up a third of it
//! ([`is_path`]).
//!
//! Cost: of 200,000 random 48-character base64 tokens at or above the threshold, 7 are
//! left in clear (docs/redaction.md has the history). The threshold itself passes 30%
//! of random 32-character tokens and 2% at 40.

/// The `high-entropy` rule's pattern: runs of 32+ characters that may be a token.
pub(super) const RUN_PATTERN: &str = r"[A-Za-z0-9+_-][A-Za-z0-9+/_=-]{31,}";

/// The design record's threshold, in bits per character.
pub const MIN_BITS_PER_CHAR: f64 = 4.5;
use std::ops::Range;

/// The shortest separator-free segment a random token is expected to contain.
const MIN_SEGMENT: usize = 16;

/// Runs of digits inside letters ([`digits_inside`]) that make a token random in shape.
const DIGITS_INSIDE: usize = 3;

/// Whether a candidate token is random enough to be treated as an unknown secret.
/// The structural tests come first: they are cheap, and reject most path segments.
pub(super) fn looks_random(token: &str) -> bool {
    // Path segments, identifiers and branch names have no `+`, and base64 has one in
    // about half of its 48-character tokens: for those, entropy alone decides (which
    // halves the random tokens the structural tests would let through).
    let long_segment = || longest_segment(token) >= MIN_SEGMENT;
    let random_shape = token.contains('+')
        || mixes_case(token)
        || (long_segment() && 2 * readable_chars(token) < token.len())
        || ((!token.contains(['-', '_']) || long_segment())
            && digits_inside(token) >= DIGITS_INSIDE);
    random_shape && shannon_bits_per_char(token) >= MIN_BITS_PER_CHAR
}

/// Appends the matches of [`RUN_PATTERN`] in `text`: each maximal run of the alphabet,
/// less its leading `/` and `=`, when 32+ bytes are left. Every text with a URL has
/// such a run, so this is the redactor's hottest loop. Runs shorter than 32 bytes never
/// count, so it looks at the 32nd byte of a window first: outside the alphabet, the
/// whole window is skipped; inside, the last byte outside the alphabet before it (found
/// backwards) starts the next window. Ordinary text (short words) costs a few byte
/// tests per 32 bytes instead of one per byte.
pub(super) fn runs(text: &str, out: &mut Vec<Range<usize>>) {
    const MIN: usize = 32;
    let bytes = text.as_bytes();
    // Invariant: `i` starts the text or follows a byte outside the alphabet.
    let mut i = 0;
    while i + MIN <= bytes.len() {
        let last = i + MIN - 1;
        if !IN_RUN[usize::from(bytes[last])] {
            i = last + 1;
            continue;
        }
        if let Some(gap) = bytes[i..last]
            .iter()
            .rposition(|&b| !IN_RUN[usize::from(b)])
        {
            i += gap + 1;
            continue;
        }
        let mut end = last + 1;
        while end < bytes.len() && IN_RUN[usize::from(bytes[end])] {
            end += 1;
        }
        let start = i + bytes[i..end]
            .iter()
            .position(|&b| !matches!(b, b'/' | b'='))
            .unwrap_or(end - i);
        if end - start >= MIN {
            out.push(start..end);
        }
        i = end + 1;
    }
}

/// The run alphabet `[A-Za-z0-9+/_=-]`, as a table.
static IN_RUN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'_' | b'=' | b'-');
        b += 1;
    }
    t
};

/// Appends the secrets inside the candidate run `text[run]`.
pub(super) fn random_parts(text: &str, run: Range<usize>, out: &mut Vec<Range<usize>>) {
    let mut start = run.start;
    while let Some(eq) = text[start..run.end].find('=') {
        if !is_name(&text[start..start + eq]) {
            break;
        }
        start += eq + text[start + eq..run.end].len()
            - text[start + eq..run.end].trim_start_matches('=').len();
    }
    let token = &text[start..run.end];
    if is_path(token) {
        let mut at = start;
        for segment in token.split('/') {
            if looks_random(segment.trim_end_matches('=')) {
                out.push(at..at + segment.len());
            }
            at += segment.len() + 1;
        }
    } else if looks_random(token.trim_end_matches('=')) {
        out.push(start..run.end);
    }
}

/// A URL or file path: two lowercase path words or more (`job/deploy`), or one that
/// makes up a third of the run. A single short one is not enough: a random base64
/// token has one between two `/` (`…/wqtv/…`) in about 1 of 800 draws of 48
/// characters, and judged segment by segment it was missed.
fn is_path(token: &str) -> bool {
    let mut words = token.split('/').filter(|s| is_path_word(s));
    match (words.next(), words.next()) {
        (Some(_), Some(_)) => true,
        (Some(word), None) => 3 * word.len() >= token.len(),
        (None, _) => false,
    }
}

/// Letters that change case at least every third pair, over 16 or more pairs, with
/// uppercase letters side by side at least three times: random base64 switches at
/// every other pair and has about eight such uppercase pairs in 48 characters;
/// words glued in camel case (`TheQuickBrownFox`) switch as often but never put two
/// capitals together. It catches random tokens whose lowercase runs look like words
/// (`…Kamwy…Oahto…stpfaug…`), which the word test rejected in about 1 of 250 draws
/// of 48 base64 characters; the entropy threshold still applies.
fn mixes_case(token: &str) -> bool {
    let (mut pairs, mut switches, mut capitals) = (0usize, 0usize, 0usize);
    for w in token.as_bytes().windows(2) {
        if w[0].is_ascii_alphabetic() && w[1].is_ascii_alphabetic() {
            pairs += 1;
            switches += usize::from(w[0].is_ascii_uppercase() != w[1].is_ascii_uppercase());
            capitals += usize::from(w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase());
        }
    }
    pairs >= 16 && 10 * switches >= 3 * pairs && capitals >= 3
}

/// How many runs of one or two digits stand between two letters, not both hex digits
/// (`N1o`, `y65v`, not `c0f`): random base64 has about five in 48 characters; words
/// and identifiers seldom any, since their numbers end them or stand between
/// separators, and in hex (a UUID in a URL) every letter is a digit too. A random
/// token whose lowercase runs look like words, with too few capital pairs for
/// [`mixes_case`], or cut by `/` into short segments, still has them.
fn digits_inside(token: &str) -> usize {
    let b = token.as_bytes();
    let mut count = 0;
    let mut i = 1;
    while i < b.len() {
        let run = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let between = match (b[i - 1], b.get(i + run)) {
            (before, Some(&after)) => {
                before.is_ascii_alphabetic()
                    && after.is_ascii_alphabetic()
                    && !(before.is_ascii_hexdigit() && after.is_ascii_hexdigit())
            }
            _ => false,
        };
        count += usize::from((1..=2).contains(&run) && between);
        i += run.max(1);
    }
    count
}

/// `DD_API_KEY`, `X-Amz-Signature`, `access_token`: the name of an assignment.
fn is_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && (2 * word_like_chars(s) >= s.len()
            || s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
}

/// A segment of a path: a lowercase word (with `-`, `_`, `.`). Numbers do not count:
/// a random base64 token can have a short all-digit segment between two `/`.
fn is_path_word(s: &str) -> bool {
    s.len() >= 3
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        && 2 * word_like_chars(s) >= s.len()
}

/// Shannon entropy of the byte distribution of `s`, in bits per byte.
pub fn shannon_bits_per_char(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

fn longest_segment(token: &str) -> usize {
    token
        .split(['/', '-', '_'])
        .map(str::len)
        .max()
        .unwrap_or(0)
}

/// The number of bytes inside runs shaped like a (capitalised) word of 4+ letters.
fn word_like_chars(token: &str) -> usize {
    word_runs(token).map(str::len).sum()
}

/// [`word_like_chars`], of the runs that could be said aloud ([`pronounceable`]):
/// random letters often are not (`Lbjwybmfkhk`), words nearly always are.
fn readable_chars(token: &str) -> usize {
    word_runs(token)
        .filter(|w| pronounceable(w))
        .map(str::len)
        .sum()
}

/// A vowel (`y` counts), and never five consonants in a row: `strengths` is one of
/// the few words that has five.
fn pronounceable(word: &str) -> bool {
    let is_vowel = |b: &u8| b"aeiouyAEIOUY".contains(b);
    let mut consonants = 0;
    let mut vowels = 0;
    for b in word.bytes() {
        if is_vowel(&b) {
            vowels += 1;
            consonants = 0;
        } else {
            consonants += 1;
            if consonants >= 5 {
                return false;
            }
        }
    }
    vowels > 0
}

/// The runs of `token` shaped like a (capitalised) word of 4+ letters: `[A-Z]?[a-z]{3,}`.
fn word_runs(token: &str) -> impl Iterator<Item = &str> {
    let bytes = token.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let start = i;
            if bytes[i].is_ascii_uppercase() {
                i += 1;
            }
            while i < bytes.len() && bytes[i].is_ascii_lowercase() {
                i += 1;
            }
            let lower = i - start - usize::from(bytes[start].is_ascii_uppercase());
            if i == start {
                i += 1;
            }
            if lower >= 3 && i - start >= 4 {
                return Some(&token[start..i]);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secrets [`random_parts`] finds in a run that is all of `text`.
    fn parts(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        random_parts(text, 0..text.len(), &mut out);
        out.into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn entropy_of_known_strings() {
        assert_eq!(shannon_bits_per_char("aaaa"), 0.0);
        assert!((shannon_bits_per_char("abcd") - 2.0).abs() < 1e-9);
        // 40 hex digits can never reach the threshold: log2(16) = 4.
        assert!(shannon_bits_per_char("0123456789abcdef0123456789abcdef01234567") <= 4.0);
    }

    #[test]
    fn random_base64_is_accepted() {
        for token in [
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYq8Zr3vT",
            "Zq3Xv8Lm2Pw9Rt5Yk1Hd7Jc4Nb6Gf0Sa2Ue8Ix3Oz5Qy7Wr",
            "p8X2kQ9vR4mN7bL1zT6yH3cJ5wF0dS8gA2eK4uV6iO9xB1nM",
        ] {
            assert!(looks_random(token), "{token}");
        }
    }

    #[test]
    fn glued_prose_is_rejected() {
        for token in [
            "com/acme-corp/platform-infrastructure/actions/runs/1234567890/job/9876543210",
            "com/pipelines/github/acme-inc/clef-pro-backend/4821/workflows/7c0f3a2e-5b1d-4c8e-9f6a-1b2c3d4e5f60",
            "feature/CLEF-4821_rotate-stripe-webhook-signing-secret-2024Q3",
            "TheQuickBrownFoxJumpsOverTheLazyDog1234567",
        ] {
            assert!(!looks_random(token), "{token}");
        }
    }

    #[test]
    fn names_and_paths_are_left_readable() {
        let key = "Zq3Xv8Lm2Pw9Rt5Yk1Hd7Jc4Nb6Gf0Sa2Ue8Ix3Oz5Qy7Wr";
        assert_eq!(parts(&format!("DD_API_KEY={key}")), [key]);
        assert_eq!(parts(&format!("{key}=={key}")), [format!("{key}=={key}")]);
        assert_eq!(parts(&format!("com/job/deploy/{key}/console")), [key]);
        assert!(parts("com/job/deploy/12345/console/output/full").is_empty());
    }

    proptest::proptest! {
        /// The scanner finds what the pattern finds, on text dense with run
        /// characters, separators and non-ASCII.
        #[test]
        fn runs_are_the_patterns_matches(text in "[a-zA-Z0-9+/_=\\- .:é]{0,200}") {
            same_as_the_pattern(&text)?;
        }

        /// The same on words of every length around 32 (where the scanner skips
        /// windows), some led by `/` and `=`, between separators.
        #[test]
        fn runs_near_the_window_are_the_patterns_matches(
            text in "([/=]{0,3}[a-zA-Z0-9+_\\-]{0,40}[ .:é]){0,8}"
        ) {
            same_as_the_pattern(&text)?;
        }
    }

    fn same_as_the_pattern(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let regex = regex::Regex::new(RUN_PATTERN).expect("pattern");
        let mut scanned = Vec::new();
        runs(text, &mut scanned);
        let found: Vec<_> = regex.find_iter(text).map(|m| m.range()).collect();
        proptest::prop_assert_eq!(scanned, found);
        Ok(())
    }

    /// Random base64 tokens the structural tests reject (short segments, many
    /// lowercase runs) are caught when they hold a `+`.
    #[test]
    fn base64_with_a_plus_needs_only_entropy() {
        for token in [
            "1cNVBZRprd+I7Xjsefq1DcndyoBArQqD87/4LnflVatjO1sz",
            "E+lu9YYbgjudYC/kYwm3YQcLu6e/8wVDlAt/MdswdzdMjQuo",
        ] {
            assert!(looks_random(token), "{token}");
            let without = token.replace('+', "x");
            assert!(mixes_case(&without), "{without}");
        }
    }

    /// Random tokens the end-to-end plants found in clear: one whose lowercase runs
    /// look like words, one with a short lowercase segment between two `/`. Both are
    /// one secret, whole.
    #[test]
    fn random_tokens_with_word_like_parts_are_whole_secrets() {
        for token in [
            "jLWBROWImeUqjsTCYoFojgwZOVwnnqoxmrhaBGmhwz0xgQ8J",
            "fqGptyEkzatgZHrdjzSSijJBhuzOuQVGCFBhZwcdoXVPcXDT",
            "ZJzD+P/wqtv/EDdexj1LiczFhFWpc28J7u2W3+v/J6LY8lX6",
        ] {
            assert_eq!(parts(token), [token], "one secret, whole");
        }
        assert!(!mixes_case("TheQuickBrownFoxJumpsOverTheLazyDog"));
    }

    /// Random tokens above the entropy threshold that the no-plaintext test's plants
    /// found in clear (too few capital pairs, many word-like runs): their digits
    /// stand inside letters.
    #[test]
    fn digits_inside_letters_make_a_token_random() {
        for token in [
            "CfDqgmHN1o4kzchOr5wnpsvlceKRklmnMkzz5o0ftUwageps",
            "seoqRMkwghdS9HlbnkgoJwzN6tEoqP0hoBspvZ9RAqsd5rmD",
            "CmfmowJ057B8Lv5oppmyT1uZuasD4PkqlROVdm9dkyhb67lV",
        ] {
            assert!(digits_inside(token) >= 3, "{token}");
            assert!(looks_random(token), "{token}");
        }
        assert_eq!(digits_inside("y65vz1"), 1);
        assert_eq!(
            digits_inside("7c0f3a2e-5b1d-4c8e"),
            0,
            "hex letters are digits"
        );
        assert_eq!(
            digits_inside("TheQuickBrownFoxJumpsOverTheLazyDog1234567"),
            0
        );
        assert_eq!(
            digits_inside("release2024Q3a"),
            1,
            "a year is not a run of one or two"
        );
        // Identifiers with digits inside words stay readable: below the threshold.
        let ids = "i18nK8sEc2S3BucketForK8sLogs";
        assert!(digits_inside(ids) >= 3 && !looks_random(ids), "{ids}");
    }

    /// Random tokens above the threshold that a sweep of 200,000 left in clear: `/`
    /// cut them into segments under 16 characters, or their lowercase runs looked
    /// like words without being sayable.
    #[test]
    fn cut_or_unsayable_random_tokens_are_secrets() {
        for token in [
            "fK5nt/oV9ZolLjp/0IvIoUgSB15qwow//7bP1b4weUN35unl",
            "Ha0gXoQK9/g45nS/yd/2ceOWdip0c6a3/tuWbgepZux63/df",
            "umkNvyCh04IYk/H96hjvR/UFee9j2Ac4cL/NumZ1uP0rqSqt",
            "7soRIjZWOWYnwamLbjwybmfkhkT0GXTk3PPsoynpBuetncos",
            "svU/KicJtvxbMdcfjtrmkRWev940U/Px9zhaf6uUCtecLvrt",
        ] {
            assert_eq!(parts(token), [token], "one secret, whole");
        }
    }

    /// Build and branch names with digits inside, cut short by `-` and `_`, keep the
    /// segment guard: only `/` (standard base64) lets the digits test past it.
    #[test]
    fn build_names_with_digits_inside_stay_readable() {
        let name = "Build-2024-x86_64-Ubuntu22-LTS-k8s1v29-Node7Pool-qzW";
        assert!(digits_inside(name) >= DIGITS_INSIDE);
        assert!(shannon_bits_per_char(name) >= MIN_BITS_PER_CHAR);
        assert!(!looks_random(name), "{name}");
    }

    #[test]
    fn sayable_words() {
        for word in ["Rotate", "scripts", "Strength", "rhythm", "nginx"] {
            assert!(pronounceable(word), "{word}");
        }
        for word in ["Lbjwybmfkhk", "Jtvxb", "strengths", "html"] {
            assert!(!pronounceable(word), "{word}");
        }
        assert_eq!(readable_chars("xKeysRotatedLbjwybmfkhk"), 11);
    }

    #[test]
    fn word_like_runs_are_counted() {
        assert_eq!(word_like_chars("Rotate"), 6);
        assert_eq!(word_like_chars("ab1Cd"), 0);
        assert_eq!(word_like_chars("xKeysRotatedABC"), 11);
    }
}
