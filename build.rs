// Gives the shared library a SONAME so firmware links against the ABI major version.
fn main() {
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    let minor = env!("CARGO_PKG_VERSION_MINOR");
    // Before 1.0 every minor release may break the ABI, so the SONAME carries it.
    let soname = if major == "0" {
        format!("libwxface.so.0.{minor}")
    } else {
        format!("libwxface.so.{major}")
    };
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        // Android loads by file name (System.loadLibrary), so it keeps the default.
        // (no SONAME suffix there)
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
