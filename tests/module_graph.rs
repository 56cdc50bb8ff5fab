//! The modules of `src/` import each other without a cycle, and the layers hold: `protocol/`
//! does no I/O and imports nothing from `net/`.
//!
//! Reads every file under `src/`, takes each `use` line and each inline `crate::…` / `super::…`
//! path as an edge from the file's module to the module that defines the item (re-exports such
//! as `pub use config::*` in `ffi/mod.rs` or the crate root's facade are followed to the defining
//! module, and are not edges themselves), and fails naming the first cycle it finds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module path such as `crate::ffi::config`.
type Module = String;

struct Source {
    module: Module,
    /// The code without comments.
    code: String,
}

fn module_of(rel: &Path) -> Module {
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
    std::iter::once("crate".to_owned())
        .chain(parts)
        .collect::<Vec<_>>()
        .join("::")
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            // A `//` inside a string literal (a URL) is rare in use lines; good enough here.
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn read_sources(dir: &Path, root: &Path, out: &mut Vec<Source>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            read_sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push(Source {
                module: module_of(path.strip_prefix(root).unwrap()),
                code: strip_comments(&text),
            });
        }
    }
}

/// Expands a use tree (`a::{b, c::{d, e}}`) into full paths.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap().to_owned()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.len() - 1];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|s| !s.is_empty())
        .flat_map(|item| {
            expand(item).into_iter().map(move |p| {
                if p == "self" {
                    prefix.trim_end_matches("::").to_owned()
                } else {
                    format!("{prefix}{p}")
                }
            })
        })
        .collect()
}

/// `use` statements of a file: (is a re-export, expanded paths).
fn use_statements(code: &str) -> Vec<(bool, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = find_use(rest) {
        let before = rest[..i].trim_end();
        let reexport = before.ends_with("pub") || before.ends_with(')');
        let body_start = i + "use ".len();
        let end = rest[body_start..].find(';').unwrap() + body_start;
        out.push((reexport, expand(&rest[body_start..end])));
        rest = &rest[end..];
    }
    out
}

fn find_use(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find("use ") {
        let at = from + i;
        let prev = s[..at].chars().next_back();
        if prev.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

/// Inline paths starting with `crate::` or `super::` outside use statements.
fn inline_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            let prev = code[..at].chars().next_back();
            let end = code[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| at + e);
            if prev.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':')) {
                out.push(code[at..end].trim_end_matches(':').to_owned());
            }
            from = end.max(at + 1);
        }
    }
    out
}

/// Makes `path` (as written in `module`) absolute.
fn absolute(module: &str, path: &str) -> String {
    let mut base: Vec<&str> = module.split("::").collect();
    let mut segs = path.split("::").peekable();
    match segs.peek().copied() {
        Some("crate") => return path.to_owned(),
        Some("super") => {
            while segs.peek() == Some(&"super") {
                segs.next();
                base.pop();
            }
        }
        Some("self") => {
            segs.next();
        }
        // A child module, or an external crate (which resolves to nothing here).
        _ => {}
    }
    base.into_iter()
        .map(str::to_owned)
        .chain(segs.map(str::to_owned))
        .collect::<Vec<_>>()
        .join("::")
}

struct Graph {
    modules: BTreeSet<Module>,
    /// (module, name) → the path it re-exports.
    reexports: BTreeMap<(Module, String), String>,
    /// module → modules it glob-re-exports.
    globs: BTreeMap<Module, Vec<Module>>,
    /// module → items it defines.
    defines: BTreeMap<Module, BTreeSet<String>>,
}

impl Graph {
    /// The module that defines what `path` (absolute) names, if it is in this crate.
    fn resolve(&self, path: &str, depth: usize) -> Option<Module> {
        if !path.starts_with("crate") || depth > 16 {
            return None;
        }
        let segs: Vec<&str> = path.split("::").collect();
        let mut n = segs.len();
        while n > 0 && !self.modules.contains(&segs[..n].join("::")) {
            n -= 1;
        }
        let module = segs[..n].join("::");
        let Some(name) = segs.get(n) else {
            return Some(module);
        };
        if self.defines[&module].contains(*name) {
            return Some(module);
        }
        if let Some(target) = self.reexports.get(&(module.clone(), (*name).to_owned())) {
            return self.resolve(target, depth + 1);
        }
        for glob in self.globs.get(&module).into_iter().flatten() {
            if let Some(m) = self.resolve(&format!("{glob}::{name}"), depth + 1) {
                return Some(m);
            }
        }
        Some(module)
    }
}

fn defined_items(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in code.lines() {
        let words: Vec<&str> = line
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        for (i, w) in words.iter().enumerate() {
            if matches!(
                *w,
                "fn" | "struct"
                    | "enum"
                    | "const"
                    | "static"
                    | "type"
                    | "trait"
                    | "mod"
                    | "macro_rules"
            ) && let Some(name) = words.get(i + 1)
            {
                names.insert((*name).to_owned());
            }
        }
    }
    names
}

/// The sources of `src/` and the import edges between their modules.
fn import_edges() -> (Vec<Source>, BTreeMap<Module, BTreeSet<Module>>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = Vec::new();
    read_sources(&src, &src, &mut sources);
    let mut graph = Graph {
        modules: sources.iter().map(|s| s.module.clone()).collect(),
        reexports: BTreeMap::new(),
        globs: BTreeMap::new(),
        defines: BTreeMap::new(),
    };
    for s in &sources {
        graph
            .defines
            .insert(s.module.clone(), defined_items(&s.code));
        for (reexport, paths) in use_statements(&s.code) {
            if !reexport {
                continue;
            }
            for p in paths {
                let abs = absolute(&s.module, &p);
                match abs.strip_suffix("::*") {
                    Some(glob) => graph
                        .globs
                        .entry(s.module.clone())
                        .or_default()
                        .push(glob.to_owned()),
                    None => {
                        let name = abs.rsplit("::").next().unwrap().to_owned();
                        graph.reexports.insert((s.module.clone(), name), abs);
                    }
                }
            }
        }
    }
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for s in &sources {
        let mut paths: Vec<String> = use_statements(&s.code)
            .into_iter()
            .filter(|(reexport, _)| !reexport)
            .flat_map(|(_, p)| p)
            .collect();
        paths.extend(inline_paths(&s.code));
        for p in paths {
            let abs = absolute(&s.module, p.trim_end_matches("::*"));
            if let Some(target) = graph.resolve(&abs, 0)
                && target != s.module
                && !s.module.starts_with(&format!("{target}::"))
            {
                edges.entry(s.module.clone()).or_default().insert(target);
            }
        }
    }
    assert!(
        edges.contains_key("crate::ffi::client")
            && edges["crate::ffi::client"].contains("crate::client"),
        "the graph is not being read: {edges:#?}"
    );
    (sources, edges)
}

#[test]
fn src_modules_have_no_import_cycle() {
    let (sources, edges) = import_edges();
    let modules: BTreeSet<Module> = sources.iter().map(|s| s.module.clone()).collect();
    // Depth-first search for a back edge.
    fn visit(
        m: &str,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        state: &mut BTreeMap<Module, u8>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        state.insert(m.to_owned(), 1);
        stack.push(m.to_owned());
        for next in edges.get(m).into_iter().flatten() {
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|s| s == next).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(m.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in &modules {
        if state.get(m).copied().unwrap_or(0) == 0
            && let Some(cycle) = visit(m, &edges, &mut state, &mut Vec::new())
        {
            panic!("import cycle in src/: {}", cycle.join(" -> "));
        }
    }
}

/// What doing I/O looks like in Rust source: files, sockets, processes, the environment,
/// threads, the wall clock, randomness, and the crates that move bytes.
const IO_MARKERS: &[&str] = &[
    "std::fs",
    "std::net",
    "std::process",
    "std::env",
    "std::thread",
    "std::io::Read",
    "std::io::Write",
    "io::stdin",
    "io::stdout",
    "io::stderr",
    "SystemTime",
    "Instant",
    "getrandom",
    "ureq",
    "rustls",
    "openssl",
    "TcpStream",
    "File::",
];

/// `protocol/` is pure work over bytes: no I/O of its own, no import from `net/`, and no import
/// of any module that imports from `net/` and is not itself a pure policy (so the rule cannot be
/// dodged through a re-export).
#[test]
fn protocol_layer_does_no_io_and_imports_nothing_from_net() {
    let (sources, edges) = import_edges();
    let protocol: Vec<&Source> = sources
        .iter()
        .filter(|s| s.module.starts_with("crate::protocol"))
        .collect();
    assert!(protocol.len() >= 5, "protocol/ is not being read");
    let mut broken = Vec::new();
    for s in &protocol {
        for marker in IO_MARKERS {
            if s.code.contains(marker) {
                broken.push(format!("{} does I/O: `{marker}`", s.module));
            }
        }
        for target in edges.get(&s.module).into_iter().flatten() {
            if target.starts_with("crate::net") || target.starts_with("crate::relay") {
                broken.push(format!("{} imports {target}", s.module));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "protocol/ layer broken:\n{}",
        broken.join("\n")
    );
}
