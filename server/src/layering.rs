//! The rule in lib.rs's table, checked on the source: each module uses only
//! the modules listed below it (and `AppState`, the handlers' state).

use std::collections::BTreeSet;
use std::path::Path;

/// The `crate::<name>` paths a file uses, with grouped imports opened.
fn uses(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in source.match_indices("crate::") {
        let rest = &source[i + "crate::".len()..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
            None => vec![rest],
        };
        for name in names {
            let ident: String = name.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !ident.is_empty() {
                found.insert(ident);
            }
        }
    }
    found
}

/// What each module may use besides itself and `AppState`: lib.rs's table.
fn allowed(module: &str) -> Option<&'static [&'static str]> {
    Some(match module {
        "oidc" => &["session", "limits", "pages", "cookies", "config", "secret"],
        "session" => &["pages", "cookies", "config", "secret"],
        "echo" => &["session", "cookies"],
        "responses" => &["config"],
        "pages" => &["cookies"],
        "cookies" => &["config"],
        "config" => &["secret"],
        "imports" | "exports" => &["pages"],
        "health" | "observability" | "demo" | "secret" | "limits" => &[],
        _ => return None,
    })
}

#[test]
fn modules_use_only_the_modules_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&src).expect("read server/src") {
        let path = entry.expect("dir entry").path();
        let Some(module) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".rs")) else {
            continue;
        };
        // lib.rs wires everything; main.rs is the binary, which sees the library
        // from outside; this file names modules only in its test strings.
        if matches!(module, "lib" | "main" | "layering") {
            continue;
        }
        let Some(ok) = allowed(module) else {
            broken.push(format!("{module}.rs is not in lib.rs's table (and `allowed` here)"));
            continue;
        };
        let source = std::fs::read_to_string(&path).expect("read source");
        for used in uses(&source) {
            if used != module && used != "AppState" && !ok.contains(&used.as_str()) {
                broken.push(format!("{module}.rs uses crate::{used}"));
            }
        }
        checked += 1;
    }
    assert!(checked >= 10, "checked only {checked} modules");
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn the_checker_sees_grouped_and_plain_paths() {
    let found = uses("use crate::{session::COOKIE, pages};\nlet c = crate::cookies::value(&h, \"x\");");
    assert_eq!(found, ["cookies", "pages", "session"].into_iter().map(String::from).collect());
}
