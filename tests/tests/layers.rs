//! No import circles between the files of a crate: the module graph, drawn from every
//! `crate::…` and `super::…` path in the code (imports and inline paths alike), has no
//! cycle. A circle means two files that can only be understood together; the fix is to
//! move what both need into a third.

use clef_pro_tests::{files_under, root};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module's path inside its crate (`["dashboard", "html"]`), from its file's path
/// relative to `src/`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without inline `mod tests { … }` blocks
/// (whose `super` is the file itself); the indentation tells them apart.
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut in_tests = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if line.starts_with("mod tests {") {
            in_tests = true;
        } else if in_tests && line.starts_with('}') {
            in_tests = false;
            continue;
        }
        if in_tests || trimmed.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Every module path a file refers to: `crate::a::b`, `super::x`, and each member of a
/// `super::{x, y}` or `crate::a::{b, c}` group.
fn references(module: &[String], code: &str) -> Vec<Vec<String>> {
    let re = regex::Regex::new(r"\b(crate|super)((?:::\w+)*)(?:::\{([^}]*)\})?").expect("re");
    // `super` of `a/b.rs` and of `a/b/mod.rs` alike is `a`.
    let parent = module[..module.len().saturating_sub(1)].to_vec();
    let mut out = Vec::new();
    for c in re.captures_iter(code) {
        let base = if &c[1] == "crate" {
            Vec::new()
        } else {
            parent.clone()
        };
        let mut path = base;
        path.extend(
            c[2].split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        match c.get(3) {
            Some(group) => {
                for member in group.as_str().split(',') {
                    let first = member.trim().split("::").next().unwrap_or("").trim();
                    if !first.is_empty() && first != "self" {
                        let mut p = path.clone();
                        p.push(first.to_owned());
                        out.push(p);
                    }
                }
                out.push(path);
            }
            None => out.push(path),
        }
    }
    out
}

/// The cycles of the graph (each as the files on it), found by depth-first search.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        if let Some(at) = stack.iter().position(|n| n == node) {
            found.push(stack[at..].to_vec());
            return;
        }
        if done.contains(node) {
            return;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, stack, done, found);
        }
        stack.pop();
        done.insert(node.to_owned());
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

#[test]
fn no_crate_has_an_import_circle_between_its_files() {
    let root = root();
    let crates = [
        "schema",
        "services/log",
        "services/projections",
        "services/notifier",
        "services/app",
        "services/api",
        "services/dashboard",
        "services/clef-pro",
        "tests",
    ];
    let mut circles = Vec::new();
    let mut files_seen = 0;
    for krate in crates {
        let src = root.join(krate).join("src");
        // module path → file
        let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
        let mut texts = Vec::new();
        for f in files_under(&src) {
            if f.extension().is_none_or(|e| e != "rs")
                || f.components().any(|c| c.as_os_str() == "bin")
            {
                continue;
            }
            let rel = f.strip_prefix(&src).expect("under src").to_owned();
            let module = module_of(&rel);
            let name = format!("{krate}/src/{}", rel.display());
            modules.insert(module.clone(), name.clone());
            texts.push((name, module, std::fs::read_to_string(&f).expect("read")));
        }
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (name, module, text) in &texts {
            files_seen += 1;
            for mut path in references(module, &code(text)) {
                // The longest prefix of the path that is a module with a file.
                while !path.is_empty() && !modules.contains_key(&path) {
                    path.pop();
                }
                if path.is_empty() {
                    continue;
                }
                let target = &modules[&path];
                // Paths through a module's ancestors (their re-exports) are not imports.
                if target != name && !module.starts_with(&path) {
                    graph
                        .entry(name.clone())
                        .or_default()
                        .insert(target.clone());
                }
            }
        }
        circles.extend(cycles(&graph));
    }
    assert!(files_seen > 50, "read too few files: {files_seen}");
    let shown: Vec<String> = circles.iter().map(|c| c.join(" → ")).collect();
    assert!(shown.is_empty(), "import circles:\n{}", shown.join("\n"));
}

/// Every `.rs` file under `dir`, with its text.
fn sources_under(dir: &str) -> Vec<(String, String)> {
    let root = root();
    files_under(&root.join(dir))
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
        .map(|f| {
            let name = f
                .strip_prefix(&root)
                .expect("under the root")
                .display()
                .to_string();
            (name, std::fs::read_to_string(&f).expect("read"))
        })
        .collect()
}

/// The layers of `docs/architecture.md`: the application layer knows nothing of HTTP;
/// the edges (JSON API, OTLP, dashboard) call its commands and queries, and neither
/// build events, seal them, nor read a store themselves (the operations routes read the
/// stores' checkpoints for `/readyz` and `/metrics`); the dashboard calls none of the
/// JSON API's handlers.
#[test]
fn the_edges_sit_on_the_application_layer() {
    let manifest = std::fs::read_to_string(root().join("services/app/Cargo.toml")).expect("read");
    for http in ["axum", "hyper", "tower", "utoipa-axum"] {
        assert!(
            !manifest
                .lines()
                .any(|l| l.starts_with(&format!("{http}.")) || l.starts_with(&format!("{http} "))),
            "the application layer depends on {http}"
        );
    }
    let mut found = Vec::new();
    for dir in ["services/api/src", "services/dashboard/src"] {
        for (name, text) in sources_under(dir) {
            let text = code(&text);
            for (needle, why) in [
                ("Event::", "builds an event"),
                (".seal(", "seals an event"),
                ("clef_pro_api::routes", "calls another edge's handlers"),
            ] {
                if text.contains(needle) {
                    found.push(format!("{name} {why}"));
                }
            }
            if text.contains(".projections()") && !name.ends_with("routes/ops.rs") {
                found.push(format!("{name} reads a store around the queries"));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
