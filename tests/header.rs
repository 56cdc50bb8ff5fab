//! The committed include/wxface.h must be exactly what cbindgen generates from the sources.
//! Run `make header` (or `WXFACE_BLESS=1 cargo test --test header`) after changing the C ABI.

use std::path::Path;

#[test]
fn committed_header_matches_generated() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let macros = format!("{}\n{}", version_macros(), default_macros());
    config.after_includes = Some(match config.after_includes.take() {
        Some(text) => format!("{text}\n{macros}"),
        None => macros,
    });
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

/// `WXFACE_VERSION_*` macros for the header, from Cargo.toml's version (cbindgen's
/// `after_includes` text), so a release changes the header and the drift check catches a stale one.
fn version_macros() -> String {
    format!(
        "\n/* The wxface release this header belongs to (from Cargo.toml). The library's\n \
         * wxface_version() returns WXFACE_VERSION_STRING when header and library match. */\n\
         #define WXFACE_VERSION_MAJOR {}\n\
         #define WXFACE_VERSION_MINOR {}\n\
         #define WXFACE_VERSION_PATCH {}\n\
         #define WXFACE_VERSION_STRING \"{}\"",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION"),
    )
}

/// `WXFACE_DEFAULT_*` macros for the header, from the library's own defaults (the `DEFAULT_*`
/// consts of src/config.rs), so a changed default without `make header` fails the drift check.
fn default_macros() -> String {
    let ms = |d: std::time::Duration| d.as_millis();
    let lines = [
        ("BASE_URL", format!("\"{}\"", wxface::DEFAULT_BASE_URL)),
        (
            "CONNECT_TIMEOUT_MS",
            ms(wxface::DEFAULT_CONNECT_TIMEOUT).to_string(),
        ),
        ("TIMEOUT_MS", ms(wxface::DEFAULT_TIMEOUT).to_string()),
        ("MAX_RETRIES", wxface::DEFAULT_MAX_RETRIES.to_string()),
        (
            "BACKOFF_INITIAL_MS",
            ms(wxface::DEFAULT_BACKOFF_INITIAL).to_string(),
        ),
        (
            "BACKOFF_MAX_MS",
            ms(wxface::DEFAULT_BACKOFF_MAX).to_string(),
        ),
        (
            "REFRESH_MARGIN_MIN_SECS",
            wxface::DEFAULT_REFRESH_MARGIN_MIN.as_secs().to_string(),
        ),
        (
            "MAX_IDLE_CONNECTIONS",
            wxface::DEFAULT_MAX_IDLE_CONNECTIONS.to_string(),
        ),
        (
            "LOG_LEVEL",
            format!("WXFACE_LOG_{}", wxface::DEFAULT_LOG_LEVEL.name()),
        ),
    ];
    let mut text = String::from(
        "\n/* The defaults a new configuration starts with (from the library's own constants). */",
    );
    for (name, value) in lines {
        text.push_str(&format!("\n#define WXFACE_DEFAULT_{name} {value}"));
    }
    text
}

/// The committed header's version macros agree with what the library reports at run time.
#[test]
fn header_version_macros_match_wxface_version() {
    if std::env::var_os("WXFACE_BLESS").is_some() {
        return; // `make header` is rewriting the file this test reads
    }
    let header =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/wxface.h"))
            .expect("include/wxface.h");
    let define = |name: &str| -> String {
        header
            .lines()
            .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("include/wxface.h has no {name}; run `make header`"))
            .trim()
            .to_string()
    };
    // SAFETY: wxface_version returns a pointer to a static NUL-terminated string.
    let library = unsafe { std::ffi::CStr::from_ptr(wxface::ffi::wxface_version()) }
        .to_str()
        .expect("UTF-8 version");
    assert_eq!(define("WXFACE_VERSION_STRING"), format!("\"{library}\""));
    let numbers = format!(
        "{}.{}.{}",
        define("WXFACE_VERSION_MAJOR"),
        define("WXFACE_VERSION_MINOR"),
        define("WXFACE_VERSION_PATCH")
    );
    assert_eq!(numbers, library, "WXFACE_VERSION_MAJOR/MINOR/PATCH");
}
