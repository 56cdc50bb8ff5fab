// Link arguments for the shared library that depend on the target OS.
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
