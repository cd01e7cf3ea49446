//! Values of a Kubernetes Secret's `data:` / `stringData:` map. The `kubernetes-secret-data`
//! rule matches the map's header line; [`secret_values`] checks that the document is a
//! `kind: Secret` and returns each value of the map's indented `name: value` lines, so
//! the names and line structure stay readable.
//!
//! Linear: the kind is looked for within [`WINDOW`] bytes of the header, and a map ends
//! at the first line that is not indented, which no later header's map can include.

use std::ops::Range;

/// How far from the header `kind: Secret` may stand (a Secret manifest is short).
const WINDOW: usize = 2048;

/// Appends the byte range of every value in the map that starts after `header`.
pub(super) fn secret_values(text: &str, header: Range<usize>, out: &mut Vec<Range<usize>>) {
    if !is_secret_document(text, header.clone()) {
        return;
    }
    let Some(newline) = text[header.end..].find('\n') else {
        return;
    };
    let mut at = header.end + newline + 1;
    for line in text[at..].split_inclusive('\n') {
        let start = at;
        at += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        if body.trim().is_empty() {
            continue;
        }
        if !body.starts_with([' ', '\t']) {
            break;
        }
        let Some((_, value)) = body.split_once(':') else {
            break;
        };
        let value_start = start + body.len() - value.len();
        let trimmed = value.trim().trim_matches(['"', '\'']);
        if trimmed.is_empty() || trimmed == "|" || trimmed == ">" {
            continue;
        }
        let offset = value.find(trimmed).unwrap_or(0);
        out.push(value_start + offset..value_start + offset + trimmed.len());
    }
}

/// Whether `kind: Secret` is in the same YAML document, within the window.
fn is_secret_document(text: &str, header: Range<usize>) -> bool {
    let floor = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let from = floor(header.start.saturating_sub(WINDOW));
    let to = floor((header.end + WINDOW).min(text.len()));
    let before = text[from..header.start]
        .rsplit("\n---")
        .next()
        .unwrap_or("");
    let after = text[header.end..to].split("\n---").next().unwrap_or("");
    [before, after].iter().any(|part| {
        part.lines().any(|l| {
            matches!(
                l.trim_end().strip_prefix("kind:").map(str::trim),
                Some("Secret" | "\"Secret\"" | "'Secret'")
            )
        })
    })
}
