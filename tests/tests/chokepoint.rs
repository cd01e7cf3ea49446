//! The textual half of the chokepoint guarantee: the compiler already refuses to append
//! anything but a `Sealed` event (its fields are private and `seal` is its only
//! constructor); this test fails the build if code anywhere else starts to build
//! `Sealed` values, or to write to the log's storage behind `Log::append`'s back.

use clef_pro_tests::{files_under, root};

/// Source files of the workspace, as (path relative to the root, text).
fn sources() -> Vec<(String, String)> {
    let root = root();
    let mut out = Vec::new();
    for dir in ["schema", "services", "tests"] {
        for f in files_under(&root.join(dir)) {
            if f.extension().is_some_and(|e| e == "rs") {
                let rel = f.strip_prefix(&root).unwrap_or(&f).display().to_string();
                out.push((rel, std::fs::read_to_string(&f).unwrap_or_default()));
            }
        }
    }
    assert!(out.len() > 20, "found too few sources: {}", out.len());
    out
}

/// Matches of `pattern` in `text` with comment lines removed (a struct literal may span
/// lines, so the search is over the whole text).
fn uses(text: &str, pattern: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let re = regex::Regex::new(pattern).expect("pattern");
    re.find_iter(&code)
        .map(|m| m.as_str().replace('\n', " "))
        .collect()
}

/// (pattern, the only files that may contain it, why).
const RULES: &[(&str, &[&str], &str)] = &[
    (
        r"Sealed\s*\{\s*(event|redactions)",
        &["schema/src/sealed.rs"],
        "only the chokepoint constructs a Sealed value",
    ),
    (
        r"\b(publish_with_headers|send_publish)\b",
        &[
            "services/log/src/nats.rs",
            "tests/src/bin/bench/main.rs",
            "tests/tests/forged_events.rs",
        ],
        "only the log publishes to JetStream (the benchmark's raw baseline uses its own \
         stream; the security tests publish forgeries as an attacker would)",
    ),
    (
        r"events\.clog",
        &[
            "services/log/src/embedded.rs",
            "tests/tests/log_conformance.rs",
            "tests/tests/golden.rs",
            "tests/tests/transfer.rs",
        ],
        "only the log opens its file (tests copy or compare it whole)",
    ),
    (
        r"\bappend_records\b",
        &[
            "services/log/src/lib.rs",
            "services/log/src/embedded.rs",
            "services/log/src/nats.rs",
            "services/clef-pro/src/transfer.rs",
        ],
        "only import appends records read from another log, and the log takes only \
         those its deployment key authenticates",
    ),
    (
        r"\bappend_again\b",
        &[
            "services/log/src/lib.rs",
            "services/app/src/commands/reports.rs",
        ],
        "only a resubmission of older content appends the same event again",
    ),
    (
        r"fn append\s*[<(]",
        &[
            "services/log/src/lib.rs",
            "services/log/src/embedded.rs",
            "services/log/src/nats.rs",
            "services/app/src/lib.rs",
        ],
        "appends go through Log::append",
    ),
];

#[test]
fn only_the_chokepoint_builds_sealed_events_and_only_the_log_writes_them() {
    let sources = sources();
    let mut violations = Vec::new();
    for (pattern, allowed, why) in RULES {
        for (path, text) in &sources {
            if path.ends_with("tests/chokepoint.rs") || allowed.iter().any(|a| path == a) {
                continue;
            }
            for line in uses(text, pattern) {
                violations.push(format!("{path}: `{}` ({why})", line.trim()));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn log_append_takes_only_sealed_events() {
    let lib = std::fs::read_to_string(root().join("services/log/src/lib.rs")).unwrap();
    assert!(
        lib.contains("pub async fn append(&self, event: &Sealed)"),
        "Log::append must take &Sealed"
    );
    let sealed = std::fs::read_to_string(root().join("schema/src/sealed.rs")).unwrap();
    let decl = sealed
        .lines()
        .skip_while(|l| !l.starts_with("pub struct Sealed"))
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !decl.contains("pub event") && !decl.contains("pub redactions"),
        "Sealed's fields must stay private:\n{decl}"
    );
}
