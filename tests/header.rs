//! The committed include/wxface.h must be exactly what cbindgen generates from the sources.
//! Run `make header` (or `WXFACE_BLESS=1 cargo test --test header`) after changing the C ABI.

use std::path::Path;

#[test]
fn committed_header_matches_generated() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    // Only the C ABI's module tree (src/ffi and its submodules): constants and functions of the
    // Rust core never reach the header.
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen could not generate the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let text = String::from_utf8(generated.clone()).expect("header is UTF-8");
    for line in text.lines() {
        if line.starts_with("//") || line.starts_with(" *") || line.starts_with("/*") {
            continue;
        }
        let name = if let Some(rest) = line.strip_prefix("#define ") {
            rest.split_whitespace().next().unwrap_or_default()
        } else if let Some(rest) = line.strip_prefix("typedef ") {
            match rest.split_once("(*") {
                // A function pointer type: typedef void (*name)(args);
                Some((_, after)) => after.split(')').next().unwrap_or_default(),
                None => rest
                    .trim_end_matches(';')
                    .rsplit(' ')
                    .next()
                    .unwrap_or_default(),
            }
        } else if !line.starts_with(' ') && line.ends_with(");") || line.ends_with('(') {
            line.split('(')
                .next()
                .unwrap_or_default()
                .rsplit([' ', '*'])
                .next()
                .unwrap_or_default()
        } else {
            continue;
        };
        assert!(
            name.starts_with("wxface_") || name.starts_with("WXFACE_"),
            "{name:?} reached the C header without the wxface prefix: {line}"
        );
    }
    let path = root.join("include/wxface.h");
    if std::env::var_os("WXFACE_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/wxface.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    if committed != generated {
        let gen_text = String::from_utf8_lossy(&generated);
        let old_text = String::from_utf8_lossy(&committed);
        let first_diff = gen_text
            .lines()
            .zip(old_text.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1)
            .unwrap_or_else(|| gen_text.lines().count().min(old_text.lines().count()) + 1);
        panic!(
            "include/wxface.h is out of date (first difference at line {first_diff}); run `make header` and commit it"
        );
    }
}
