//! Credentials recognised by where they stand rather than by their shape: inside
//! URLs and headers, after a secret-bearing name in any configuration or source syntax,
//! in a Kubernetes Secret's `data:` map, and, last, the entropy fallback.

use super::rule;
use super::rule_list;
use crate::redact::exclusions::{
    self, is_locator, last_word, names_not_holds, ordinary, prose_follows, reads_as_words,
};
use crate::redact::rule::{Accept, Candidate, Rule, rule_if};
use crate::redact::{entropy, kube};

/// A name containing one of the secret-bearing words, e.g. `DB_PASSWORD`,
/// `client_secret`, `apiKey`, `smtp_pass`.
macro_rules! secret_name {
    () => {
        r"(?i:[A-Za-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|token|api[_.-]?key|apikey|(?:access|private|app|auth|license|master|signing|encryption|client)[_.-]?key|credentials?)[A-Za-z0-9_.-]*|(?:[A-Za-z0-9_.-]*[_.-])?pass)"
    };
}

/// The start of a generic assignment: a boundary that is not `?`/`&` (query parameters
/// are the `url-query-secret` rule's), then the name.
macro_rules! secret_key {
    () => {
        concat!(r"(?:^|[^A-Za-z0-9_.?&-])", secret_name!())
    };
}

/// What may stand between a name and its operator: a closing quote, and a declared
/// type (Go `var apiToken string =`, TypeScript `apiToken: string =`, Rust `&str`).
macro_rules! typed {
    () => {
        r#"["']?(?:[ \t]+(?:string|String|str|\[\]byte)|[ \t]*:[ \t]*&?(?:'static[ \t]+)?(?:string|String|str))?[ \t]*"#
    };
}

/// Every assignment operator: `=`, Go `:=`, Makefile `::=` `:::=` `?=` `+=`, PHP `.=`,
/// `=>`.
macro_rules! assign_op {
    () => {
        r"(?::::=|::=|:=|\?=|\+=|\.=|=>|=)"
    };
}

/// An unquoted value: no blank, quote or separator inside, and it does not end in a
/// closing bracket (the one around the assignment).
macro_rules! bare_value {
    () => {
        r#"([^\s"'<>,;`]{5,}[^\s"'<>,;`)\]}])"#
    };
}

/// A quoted value of 6 or more characters; the quotes may be escaped (`\"…\"`), as
/// they are when the assignment sits inside a JSON string (policy params, messages
/// that quote code), and the value may hold other escapes.
macro_rules! quoted_value {
    () => {
        r#"(?:\\?"((?:[^"\\\r\n]|\\[^"\r\n]){6,})\\?"|\\?'((?:[^'\\\r\n]|\\[^'\r\n]){6,})\\?')"#
    };
}

/// The name in the matched text before the value (the first identifier in it).
fn key_of(context: &str) -> &str {
    let start = context
        .find(|c: char| c.is_ascii_alphanumeric() || c == '_')
        .unwrap_or(context.len());
    let rest = &context[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || "_.-".contains(c)))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// A value assigned to a secret-bearing name is a secret unless it is excluded, it is a
/// URL or path, the name only names or locates the secret, or it is a number under a
/// name other than a password or PIN (`max_tokens=4096`).
fn assigned(c: &Candidate) -> bool {
    let key = key_of(c.context());
    let digits = c.secret().bytes().all(|b| b.is_ascii_digit());
    ordinary(c)
        && !is_locator(c.secret())
        && !names_not_holds(key)
        && (!digits
            || ["password", "passwd", "pwd", "pass", "pin"].contains(&last_word(key).as_str()))
}

/// `key: value` is also how prose introduces things ("Secret: rotation overdue",
/// "token: expired", "secret: dbPassword"): the value must end the line, and a value of
/// letters needs a compound name (`DB_PASSWORD: hunterhunter`), not a bare word, unless
/// it has [`RANDOM_LETTERS`] letters or more that do not read as words
/// (`password: omTNafgXRQVkksNUGgndOxaA`, a Kubernetes Secret's value that the `data:`
/// rule cannot place).
/// Below this many letters, names of secrets (`sshKey`, `npmToken`, `OAuthToken`) and
/// random letters cannot be told apart.
const RANDOM_LETTERS: usize = 16;

fn colon_assigned(c: &Candidate) -> bool {
    let key = key_of(c.context());
    let compound = key.contains(['_', '-', '.'])
        || key.bytes().skip(1).any(|b| b.is_ascii_uppercase())
            && key.bytes().any(|b| b.is_ascii_lowercase());
    let s = c.secret();
    let words = s.bytes().all(|b| b.is_ascii_alphabetic())
        && (s.len() < RANDOM_LETTERS || reads_as_words(s));
    assigned(c) && !prose_follows(c.rest_of_line()) && (compound || !words)
}

/// `user:password` after `-u`: the password part must be a value, not a reference.
fn user_password(c: &Candidate) -> bool {
    let password = c.secret().split_once(':').map_or("", |(_, p)| p);
    password.len() >= 4
        && !exclusions::is_placeholder(password)
        && !exclusions::is_reference(password)
}

/// A header credential: not a lone word (`Authorization: Bearer <token>` leaves the
/// scheme name as the only candidate).
fn credential(c: &Candidate) -> bool {
    let s = c.secret();
    ordinary(c) && (s.len() >= 16 || !s.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// A token after `Bearer` in prose or code: it must not be a word.
fn bearer(c: &Candidate) -> bool {
    ordinary(c) && c.secret().bytes().any(|b| b.is_ascii_digit())
}

fn split(
    class: &'static str,
    pattern: &'static str,
    f: fn(&str, std::ops::Range<usize>, &mut Vec<std::ops::Range<usize>>),
) -> Rule {
    Rule {
        class,
        pattern: pattern.into(),
        accept: Accept::Split(f),
        scan: None,
    }
}

rule_list![
    // `user:password@`, or a long bare user name (a token used as the user, as in
    // `https://ghp_…@github.com`); short bare user names such as `git@` are kept.
    rule(
        "url-userinfo",
        r"\b[A-Za-z][A-Za-z0-9+.-]*://([^\s/?#@:<>]*:[^\s/?#<>]+|[^\s/?#@:<>]{16,})@",
    ),
    rule(
        "url-query-secret",
        r"[?&;](?i:(?:access_|refresh_|id_|auth_)?token|api[_-]?key|apikey|key|(?:client_)?secret|password|passwd|pwd|sig|signature|x-amz-(?:signature|credential|security-token)|x-goog-(?:signature|credential)|code|auth)=([^&#\s\x22'<>]+)",
    ),
    // `Authorization: Basic <base64>`, `Bearer <token>`, `token <token>`, or a bare value.
    rule_if(
        "authorization-header",
        r#"(?i:authorization)["']?[ \t]*[:=][ \t]*["']?(?:[A-Za-z-]+[ \t]+)?([A-Za-z0-9._~+/:-]{6,}={0,2})"#,
        credential,
    ),
    rule_if(
        "bearer-token",
        r"(?i:\bbearer)[ \t]+([A-Za-z0-9._~+/-]{16,}=*)",
        bearer
    ),
    rule_if(
        "curl-user",
        r#"(?:^|[ \t])(?:-u|--user)(?:[ \t]+|=)?["']?([^\s"':]+:[^\s"']+)"#,
        user_password,
    ),
    rule(
        "netrc-password",
        r"\b(?:machine[ \t]+\S+|default)[ \t]+login[ \t]+\S+[ \t]+password[ \t]+(\S+)",
    ),
    // NuGet and .NET appSettings: `<add key="ClearTextPassword" value="…"/>`.
    rule(
        "xml-key-value",
        concat!(
            r#"\bkey[ \t]*=[ \t]*\\?""#,
            secret_name!(),
            r#"\\?"[ \t]+value[ \t]*=[ \t]*\\?"([^"\\\r\n]{6,})\\?""#
        ),
    ),
    // `<password>…</password>`, `<apiToken>…</apiToken>`.
    rule_if(
        "xml-element",
        concat!(
            "<",
            secret_name!(),
            r"(?:[ \t][^<>]*)?>([^<>\s](?:[^<>\r\n]{4,}[^<>\s]))</"
        ),
        assigned,
    ),
    // Java `System.setProperty("API_TOKEN", "…")`, `os.environ.setdefault(…)`, `setenv(…)`.
    rule_if(
        "call-key-value",
        concat!(
            r#"\([ \t]*\\?["']"#,
            secret_name!(),
            r#"\\?["'][ \t]*,[ \t]*"#,
            quoted_value!()
        ),
        assigned,
    ),
    rule_if(
        "cli-flag-secret",
        concat!(r"(?:^|[ \t])--?", secret_name!(), r"[ \t]+", bare_value!()),
        assigned,
    ),
    rule_if(
        "generic-assignment-quoted",
        concat!(
            secret_key!(),
            typed!(),
            r"(?:",
            assign_op!(),
            "|:)[ \t]*",
            quoted_value!()
        ),
        assigned,
    ),
    rule_if(
        "generic-assignment",
        concat!(
            secret_key!(),
            typed!(),
            assign_op!(),
            r"[ \t]*",
            bare_value!()
        ),
        assigned,
    ),
    rule_if(
        "generic-colon-assignment",
        concat!(secret_key!(), r#"["']?[ \t]*:[ \t]*"#, bare_value!()),
        colon_assigned,
    ),
    // A `data:`/`stringData:` map of a `kind: Secret` document (see `kube.rs`).
    split(
        "kubernetes-secret-data",
        r"(?m)^(?:data|stringData):[ \t]*\r?$",
        kube::secret_values
    ),
    // Entropy fallback for unknown shapes (see `entropy.rs`).
    Rule {
        scan: Some(entropy::runs),
        ..split("high-entropy", entropy::RUN_PATTERN, entropy::random_parts,)
    },
];
