// Link arguments for the shared library that depend on the target OS.
use std::path::Path;

fn main() {
    let minor = env!("CARGO_PKG_VERSION_MINOR");
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    match std::env::var("CARGO_CFG_TARGET_OS")
        .unwrap_or_default()
        .as_str()
    {
        "linux" => {
            // Firmware links against the ABI version. Before 1.0 every minor release may break
            // the ABI, so the SONAME carries it: libwxface.so.0.<minor>.
            let soname = if major == "0" {
                format!("libwxface.so.0.{minor}")
            } else {
                format!("libwxface.so.{major}")
            };
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
            soname_link(&soname);
        }
        "android" => {
            // Apps load it by file name (System.loadLibrary("wxface")); 16 KB page devices need
            // segments aligned to 16 KB.
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libwxface.so");
            println!("cargo:rustc-cdylib-link-arg=-Wl,-z,max-page-size=16384");
        }
        _ => {}
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// A program linked with `-Ltarget/release -lwxface` records the SONAME (libwxface.so.0.1) as
/// the library it needs, so the loader looks for that name at start-up. Cargo only writes
/// `libwxface.so`; this puts the link `libwxface.so.0.1 -> libwxface.so` beside it, in the
/// profile directory (`<target-dir>[/<triple>]/<profile>`, three levels above OUT_DIR), so a
/// plain `cargo build --release` gives a library that programs can be linked against and run
/// with. It is a relative link, valid once cargo has written the library. The installed layout
/// (`make install`, `make dist`) is made by scripts/stage.sh instead, with the real file under
/// the full version.
fn soname_link(soname: &str) {
    let Some(out_dir) = std::env::var_os("OUT_DIR") else {
        return;
    };
    let out_dir = Path::new(&out_dir);
    // OUT_DIR is <profile dir>/build/wxface-<hash>/out; leave anything else alone.
    let Some(build_dir) = out_dir.parent().and_then(Path::parent) else {
        return;
    };
    if build_dir.file_name().is_none_or(|n| n != "build") {
        return;
    }
    let Some(profile_dir) = build_dir.parent() else {
        return;
    };
    let link = profile_dir.join(soname);
    if std::fs::read_link(&link).is_ok_and(|t| t == Path::new("libwxface.so")) {
        return;
    }
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    if let Err(e) = std::os::unix::fs::symlink("libwxface.so", &link) {
        println!("cargo:warning=could not create {}: {e}", link.display());
    }
}
