//! What is not a secret even where a rule matches: placeholders, vendors' published
//! example keys, references to a secret held elsewhere (template, variable and
//! environment lookups), names of secrets (ids, files, refs), commit shas and prose.
//!
//! Each test looks only at the candidate, its key and the rest of its line, so the
//! cost per match is bounded by the line.

use super::rule::Candidate;

/// The acceptance test of every rule without a test of its own.
pub(super) fn ordinary(c: &Candidate) -> bool {
    let s = c.secret();
    !is_placeholder(s) && !is_reference(s) && !is_commit_sha(s)
}

/// The acceptance test of rules whose match is a secret even when it looks like a
/// commit sha (a 40-hex key id after a word that names it).
pub(super) fn not_placeholder(c: &Candidate) -> bool {
    !is_placeholder(c.secret())
}

/// The acceptance test of identities and key blocks: their structure (account ids,
/// base64 padding runs) can look like a placeholder, but a vendor's example cannot.
pub(super) fn not_example(c: &Candidate) -> bool {
    !c.secret().contains("EXAMPLE")
}

/// A placeholder where a secret would go.
pub(super) fn is_placeholder(s: &str) -> bool {
    let bare = s.trim_matches(|c: char| "\"'`<>[](){} ".contains(c));
    let lower = bare.to_ascii_lowercase();
    // AWS's `AKIAIOSFODNN7EXAMPLE`, `…EXAMPLEKEY`, and every vendor copying them.
    s.contains("EXAMPLE")
        || PLACEHOLDER_WORDS.contains(&lower.as_str())
        || is_fill_in(&lower)
        || s.starts_with('<') && s.ends_with('>')
        || longest_repeat(bare) >= 8
        || (bare.len() >= 6 && few_characters(bare))
        // The digit row typed in order; hex digits in order are left to the rules.
        || lower.contains("1234567890")
        || lower.contains("abcdefghij")
        || lower.contains("qwertyuiop")
}

/// `your_api_key_here`, `YourTokenHere`, `replace-with-your-secret`: made of words that
/// ask for a value, one of which names it. The words must cover most of the letters:
/// a random key can hold `here` and `id` by chance (`HEredISXbFsVIDjuNjKXYyvg`, which
/// a 1-in-200,000 draw of the no-plaintext test planted and this let through).
fn is_fill_in(lower: &str) -> bool {
    const ASK: [&str; 3] = ["your", "here", "replace"];
    const NAMES: [&str; 7] = ["key", "token", "secret", "password", "pass", "value", "id"];
    const FILLERS: [&str; 8] = [
        "api", "with", "insert", "enter", "put", "the", "my", "access",
    ];
    if !ASK.iter().any(|w| lower.contains(w)) || !NAMES.iter().any(|w| lower.contains(w)) {
        return false;
    }
    let mut covered = vec![false; lower.len()];
    for w in ASK.iter().chain(&NAMES).chain(&FILLERS) {
        for (at, _) in lower.match_indices(w) {
            covered[at..at + w.len()].fill(true);
        }
    }
    let letters = lower.bytes().filter(u8::is_ascii_alphabetic).count();
    let words = lower
        .bytes()
        .zip(&covered)
        .filter(|(b, c)| **c && b.is_ascii_alphabetic())
        .count();
    words * 4 >= letters * 3
}

/// Words used where a value is not given, and states prose reports about a secret.
#[rustfmt::skip]
const PLACEHOLDER_WORDS: &[&str] = &[
    "changeme", "change_me", "change-me", "changeit", "password", "passw0rd", "secret",
    "token", "apikey", "api_key", "redacted", "removed", "hidden", "masked", "none",
    "null", "nil", "undefined", "empty", "dummy", "sample", "placeholder", "todo", "tbd",
    "fixme", "test", "testing", "foobar", "default", "example", "notasecret",
    "not-a-secret", "expired", "revoked", "invalid", "missing", "required", "optional",
    "enabled", "disabled", "pending", "rotated", "unknown", "unset", "notset", "n/a",
    "sensitive", "encrypted", "provided", "generated", "supersecret", "mysecret",
    "mypassword", "secret123", "password123",
];

/// The longest run of one repeated character (`xxxx`, `****`, `0000`).
fn longest_repeat(s: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut prev = None;
    for c in s.chars() {
        run = if Some(c) == prev { run + 1 } else { 1 };
        prev = Some(c);
        best = best.max(run);
    }
    best
}

/// `xx-xx-xx`, `abcabc`, `121212`: two distinct characters, or three among which at
/// most one kind of digits, small letters and capitals appears (other characters are
/// of no kind: `x-x.x-x`). Three of mixed kinds is a weak password, not a
/// placeholder (`44uJJ44`).
fn few_characters(s: &str) -> bool {
    let kinds = [
        u8::is_ascii_digit,
        u8::is_ascii_lowercase,
        u8::is_ascii_uppercase,
    ]
    .iter()
    .filter(|kind| s.bytes().any(|b| kind(&b)))
    .count();
    match distinct(s) {
        ..=2 => true,
        3 => kinds <= 1,
        _ => false,
    }
}

fn distinct(s: &str) -> usize {
    let mut seen = [false; 256];
    s.bytes()
        .filter(|&b| !std::mem::replace(&mut seen[usize::from(b)], true))
        .count()
}

/// A reference to a secret kept elsewhere: a template, variable, environment or
/// infrastructure-as-code lookup.
pub(super) fn is_reference(s: &str) -> bool {
    let s = s.trim_matches(|c: char| "\"'`".contains(c));
    let starts = |p: &[&str]| p.iter().any(|p| s.starts_with(p));
    starts(&[
        "${", "{{", "$(", "%(", "#{", "<%", "@{", "%{", "%env(", "!Ref", "!Sub", "!GetAtt",
    ]) || starts(&["!ImportValue", "!FindInMap", "!vault", "!secret", "*"])
        || s.starts_with('$') && s[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        || starts(REFERENCE_PREFIXES)
        || is_dotted_path(s)
        || is_env_name(s)
        || is_call(s)
        || is_field_name(s)
}

/// `password_confirmation`: a lowercase field name, not a value.
fn is_field_name(s: &str) -> bool {
    s.contains('_') && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// Where configuration languages and programs look a value up.
#[rustfmt::skip]
const REFERENCE_PREFIXES: &[&str] = &[
    "var.", "local.", "module.", "data.", "each.", "vars.", "secrets.", "env.", "ENV[",
    "ENV.", "process.env", "import.meta.env", "os.environ", "os.getenv", "os.Getenv",
    "System.getenv", "Environment.Get", "std::env", "env::", "getenv(", "Deno.env",
    ".Values.", "Values.", "settings.", "config.", "self.", "this.", "props.", "ctx.",
    "credentials(", "secret(", "lookup(", "Ref::", "Fn::", "arn:aws:secretsmanager",
    "arn:aws:ssm", "vault:", "ref+", "op://", "sm://",
];

/// `aws_db_instance.default.password`: lowercase identifiers joined by dots.
fn is_dotted_path(s: &str) -> bool {
    s.matches('.').count() >= 2
        && s.split('.').all(|p| {
            p.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// `DATABASE_URL`: the name of an environment variable.
fn is_env_name(s: &str) -> bool {
    s.contains('_')
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// `get_secret()`, `fetchToken(name)`, `Secret.from_name(`: a call that returns the
/// value (a bare value stops at the call's first quote or closing parenthesis).
fn is_call(s: &str) -> bool {
    s.split_once('(').is_some_and(|(f, args)| {
        !f.is_empty()
            && f.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.:".contains(&b))
            && (args.is_empty() || args.ends_with(')'))
    })
}

/// A URL or a file path: where a secret is fetched from or kept, not the secret (a
/// password inside a URL is the `url-userinfo` rule's).
pub(super) fn is_locator(s: &str) -> bool {
    s.contains("://")
        || s.starts_with("./")
        || s.starts_with(['/', '~']) && s.split('/').all(is_path_segment)
}

/// A segment of a path as people name them (`run`, `id_ed25519`, `Documents`,
/// `aws-vault`): no `+` or `=`, and no capital inside a word. One base64 value in 64
/// starts with `/` (`/tuZUbey1ai2G4qGDlX0eudj`), and its capitals fall inside words.
fn is_path_segment(s: &str) -> bool {
    !s.contains(['+', '='])
        && s.as_bytes().windows(2).all(|w| {
            !(w[1].is_ascii_uppercase() && (w[0].is_ascii_lowercase() || w[0].is_ascii_digit()))
        })
}

/// 40 lowercase hex digits: what a commit sha looks like. Only the PGP rule that needs
/// a fingerprint-naming word before it redacts one.
pub(super) fn is_commit_sha(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The words of a key name, lowercased: `passwordFile` → `password`, `file`;
/// `DB_PASSWORD` → `db`, `password`.
fn words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        let hump = c.is_ascii_uppercase() && prev_lower;
        if (!c.is_ascii_alphanumeric() || hump) && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The last word of a key name: `passwordFile` → `file`, `<apiToken>` → `token`.
pub(super) fn last_word(key: &str) -> String {
    words(key).pop().unwrap_or_default()
}

/// Words that make a key about a secret rather than the secret: look-alikes of the
/// secret-bearing words, and words of settings around one (`existingSecret`,
/// `apiKeyPrefix`, `PASSWORD_HASH_ALGORITHM`).
#[rustfmt::skip]
const LOOKALIKE_WORDS: &[&str] = &[
    "tokenizer", "tokenizers", "tokenize", "tokenized", "tokenization", "passwordless",
    "secretary", "passthrough", "passenger", "passengers", "compass", "bypass", "passive",
    "tokens", "secrets", "passwords", "existing", "prefix", "suffix", "algorithm", "algo",
    "cookie", "audience", "issuer", "scope", "scopes", "process",
];

/// Keys that name, locate or describe a secret rather than hold it.
pub(super) fn names_not_holds(key: &str) -> bool {
    if words(key)
        .iter()
        .any(|w| LOOKALIKE_WORDS.contains(&w.as_str()))
    {
        return true;
    }
    #[rustfmt::skip]
    const WORDS: &[&str] = &[
        "id", "ids", "name", "names", "file", "files", "path", "dir", "ref", "refs", "arn",
        "url", "uri", "endpoint", "type", "kind", "length", "len", "policy", "ttl",
        "expiry", "expires", "expiration", "env", "var", "version", "count", "enabled",
        "required", "field", "label", "prompt", "hint", "header", "param", "provider",
        "manager", "store", "source", "mode", "format", "rotation", "regex", "pattern",
        "min", "max", "command", "cmd", "script", "helper", "location",
    ];
    WORDS.contains(&last_word(key).as_str())
}

/// Whether ASCII letters read as words in camel or Pascal case (`rotationOverdue`,
/// `sshKeyForProduction`, `NONE`) rather than as random letters of both cases
/// (`omTNafgXRQVkksNUGgndOxaA`). A word starts at a capital after a small letter, or at
/// the last capital of a run that a small letter follows. The first word may be any
/// one to three letters (`db`, `ssh`, `i` of `iPhone`, `O` of `OAuth`); every other word
/// has two letters or more and a vowel, or is an acronym of at most five capitals; and
/// the words average three letters or more. 24 random letters of both cases pass
/// about once in 100 draws, 16 about once in 30. Letters of one case are one word, so
/// they read as words whenever they hold a vowel.
pub(super) fn reads_as_words(s: &str) -> bool {
    let b = s.as_bytes();
    let (mut words, mut start) = (0, 0);
    for end in 1..=b.len() {
        let starts_word = b.get(end).is_some_and(|c| {
            c.is_ascii_uppercase()
                && (b[end - 1].is_ascii_lowercase()
                    || b[end - 1].is_ascii_uppercase()
                        && b.get(end + 1).is_some_and(u8::is_ascii_lowercase))
        });
        if starts_word || end == b.len() {
            let word = &b[start..end];
            if !(words == 0 && word.len() <= 3 || is_word(word)) {
                return false;
            }
            words += 1;
            start = end;
        }
    }
    3 * words <= b.len()
}

fn is_word(w: &[u8]) -> bool {
    let acronym = w.iter().all(u8::is_ascii_uppercase) && w.len() <= 5;
    w.len() >= 2 && (acronym || w.iter().any(|c| b"aeiouyAEIOUY".contains(c)))
}

/// Whether the rest of a line after a value reads as more prose ("rotation overdue
/// in production") rather than the end of an assignment.
pub(super) fn prose_follows(rest: &str) -> bool {
    let rest = rest.trim_start();
    rest.starts_with(|c: char| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_words() {
        assert_eq!(last_word("passwordFile"), "file");
        assert_eq!(last_word("DB_PASSWORD"), "password");
        assert_eq!(last_word("<apiToken>"), "token");
        assert_eq!(last_word("secretName: "), "name");
        assert_eq!(last_word("apiToken"), "token");
        assert_eq!(last_word("client-secret"), "secret");
    }

    #[test]
    fn words_and_random_letters() {
        for s in [
            "rotationOverdue",
            "HTTPSProxy",
            "NONE",
            "MISSING",
            "hunterhunter",
            "getAPIKey",
            "CorrectHorseBatteryStaple",
            "sshKeyForProduction",
            "OAuthClientSecret",
            "iPhoneDeployToken",
            "qhzvkdmwoxlrtbnaypcjgs",
        ] {
            assert!(reads_as_words(s), "{s}");
        }
        for s in [
            "omTNafgXRQVkksNUGgndOxaA",
            "AmgBpzfofcwNAaGkqgwTkZqL",
            "mjKJczqOxPmlcsifuwBMZXsN",
            "GZOaFmkNUxKczUBYLtaUhkcM",
        ] {
            assert!(!reads_as_words(s), "{s}");
        }
    }

    #[test]
    fn placeholders_and_references() {
        for s in [
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "<your-token>",
            "changeme",
            "your_api_key_here",
            "YourTokenHere",
            "replace-with-your-secret",
            "INSERT_YOUR_ACCESS_KEY_HERE",
            "1234567890abcdef",
            "xx-xx-xx",
            "abcabc",
            "AKIAIOSFODNN7EXAMPLE",
        ] {
            assert!(is_placeholder(s), "{s}");
        }
        for s in [
            "${aws_db_instance.default.password}",
            "var.db_password",
            "$(DB_PASSWORD)",
            "%(password)s",
            "process.env.API_TOKEN",
            "os.environ[\"X\"]",
            "secrets.GITHUB_TOKEN",
            "aws_db_instance.default.password",
            "DATABASE_URL",
            "get_secret()",
        ] {
            assert!(is_reference(s), "{s}");
        }
        for s in [
            "hunterhunter",
            "s3cr3t!",
            "HEredISXbFsVIDjuNjKXYyvg",
            "44uJJ44",
            "0123456789abcdef0123456789abcdef",
            "$2b$12$abc",
        ] {
            assert!(!is_placeholder(s) && !is_reference(s), "{s}");
        }
    }
}
