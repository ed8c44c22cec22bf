//! One name per concept and no import loops: no type name is defined in two files of src/
//! (`scripts/type-names.sh` finds them), no module of the library imports one that imports it
//! back (through `crate::` and `super::` paths, over any number of modules), and both checks
//! find what they are meant to.

use std::path::Path;
use std::process::Command;

/// Runs scripts/type-names.sh over `src`: its exit status and what it printed.
fn type_names(src: &Path) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("sh")
        .arg(root.join("scripts/type-names.sh"))
        .arg(src)
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn no_type_name_is_defined_in_two_files() {
    let (ok, listed) = type_names(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        ok && listed.is_empty(),
        "type names defined in two files:\n{listed}"
    );
}

#[test]
fn the_script_lists_a_name_defined_in_two_files() {
    let dir = std::env::temp_dir().join(format!("parlab-names-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = dir.as_path();
    let write = |path: &str, text: &str| {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "a.rs",
        "pub struct Report {}\npub(crate) enum Mode { A }\nstruct Local;\n",
    );
    write("b/mod.rs", "pub struct Report {}\nstruct Local;\n");
    write(
        "b/c.rs",
        "    pub(crate) enum Mode { B }\npub trait Alone {}\n",
    );
    // One item per build: a feature's enabled.rs and disabled.rs count as one file.
    write("gpu/enabled.rs", "pub struct Gpu;\n");
    write("gpu/disabled.rs", "pub struct Gpu;\n");
    let (ok, listed) = type_names(src);
    assert!(!ok);
    let s = |p: &str| src.join(p).display().to_string();
    assert_eq!(
        listed,
        format!(
            "Mode: {} {}\nReport: {} {}\n",
            s("a.rs"),
            s("b/c.rs"),
            s("a.rs"),
            s("b/mod.rs")
        )
    );

    std::fs::remove_file(src.join("b/mod.rs")).unwrap();
    std::fs::remove_file(src.join("b/c.rs")).unwrap();
    assert_eq!(type_names(src), (true, String::new()));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The modules of the library under `src` (`crate::a::b` as `["a", "b"]`; the binary's `main.rs`
/// and `cli/` left out, another crate), each with its code: comment lines and the tests module
/// (from its `#[cfg(test)]` on) taken out, as neither is an import.
fn modules(src: &Path) -> std::collections::BTreeMap<Vec<String>, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path != src.join("cli") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path == src.join("main.rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut name: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if name.last().is_some_and(|n| n == "mod" || n == "lib") {
                name.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .take_while(|l| !l.contains("#[cfg(test)]"))
                .collect::<Vec<_>>()
                .join("\n");
            out.insert(name, code);
        }
    }
    out
}

/// The modules `code` (of module `me`) names through `crate::` or `super::` paths, each the
/// longest module that the path begins with.
fn imports(
    me: &[String],
    code: &str,
    all: &std::collections::BTreeMap<Vec<String>, String>,
) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    for head in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(head).map(|i| i + from) {
            from = at + head.len();
            if at > 0 && (b[at - 1].is_ascii_alphanumeric() || b"_:".contains(&b[at - 1])) {
                continue;
            }
            let path: Vec<&str> = code[at..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap()
                .split("::")
                .filter(|w| !w.is_empty())
                .collect();
            let mut parts: Vec<String> = match path[0] {
                "crate" => Vec::new(),
                _ => me[..me.len().saturating_sub(1)].to_vec(),
            };
            for w in &path[1..] {
                match *w {
                    "super" => {
                        parts.pop();
                    }
                    w => parts.push(w.to_string()),
                }
            }
            if let Some(k) = (0..=parts.len())
                .rev()
                .find(|&k| all.contains_key(&parts[..k]))
            {
                let target = parts[..k].to_vec();
                if target != me && !out.contains(&target) {
                    out.push(target);
                }
            }
        }
    }
    out
}

/// The module graph's loops: every set of two or more modules that reach each other (Tarjan's
/// strongly connected components).
fn loops(graph: &std::collections::BTreeMap<Vec<String>, Vec<Vec<String>>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a std::collections::BTreeMap<Vec<String>, Vec<Vec<String>>>,
        index: std::collections::HashMap<&'a [String], (usize, usize)>,
        stack: Vec<&'a [String]>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a [String]) {
        w.index.insert(v, (w.next, w.next));
        w.next += 1;
        w.stack.push(v);
        for t in w.graph.get(v).into_iter().flatten() {
            let t = t.as_slice();
            if !w.index.contains_key(t) {
                visit(w, t);
                let low = w.index[t].1.min(w.index[v].1);
                w.index.get_mut(v).unwrap().1 = low;
            } else if w.stack.contains(&t) {
                let low = w.index[t].0.min(w.index[v].1);
                w.index.get_mut(v).unwrap().1 = low;
            }
        }
        if w.index[v].0 == w.index[v].1 {
            let at = w.stack.iter().position(|x| *x == v).unwrap();
            let comp: Vec<String> = w.stack.drain(at..).map(|m| m.join("::")).collect();
            if comp.len() > 1 {
                w.found.push(comp);
            }
        }
    }
    let mut w = Walk {
        graph,
        index: Default::default(),
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !w.index.contains_key(v.as_slice()) {
            visit(&mut w, v);
        }
    }
    w.found
}

fn import_loops(src: &Path) -> Vec<Vec<String>> {
    let all = modules(src);
    let graph = all
        .iter()
        .map(|(m, code)| (m.clone(), imports(m, code, &all)))
        .collect();
    loops(&graph)
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let found = import_loops(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(found.is_empty(), "modules that reach each other: {found:?}");
}

#[test]
fn an_import_loop_is_found_through_crate_and_super_paths() {
    let dir = std::env::temp_dir().join(format!("parlab-loops-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let write = |path: &str, text: &str| {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n");
    write("a/mod.rs", "pub mod x;\nuse crate::b::Thing;\n");
    write(
        "a/x.rs",
        "// use crate::c::Other; a comment is no import\nuse super::super::c::Other;\n",
    );
    write(
        "b.rs",
        "use crate::a::x::Fn;\n#[cfg(test)]\nmod tests { use crate::c::T; }\n",
    );
    write("c.rs", "pub struct Other;\nuse crate::b::Thing;\n");
    let found = import_loops(&dir);
    assert_eq!(found.len(), 1, "{found:?}");
    let mut comp = found[0].clone();
    comp.sort();
    assert_eq!(comp, ["a::x", "b", "c"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
