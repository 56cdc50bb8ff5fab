//! A C program in relay mode (no API key configured) against a relay in front of the mock,
//! with a bearer token and with a client certificate. Built against the libwxface.so cargo
//! built for this test run; needs gcc.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;
use wxface_mock::MockConfig;

fn compile(work: &Path) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    assert!(
        deps.join("libwxface.so").exists(),
        "cargo did not build libwxface.so"
    );
    let lib_dir = work.join("lib");
    std::fs::create_dir_all(&lib_dir).unwrap();
    let soname = "libwxface.so.0.1";
    for name in ["libwxface.so", soname] {
        std::os::unix::fs::symlink(deps.join("libwxface.so"), lib_dir.join(name)).unwrap();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = work.join("relay_mode");
    let status = Command::new("gcc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-g"])
        .arg("-I")
        .arg(root.join("../include"))
        .arg(root.join("tests/c/relay_mode.c"))
        .arg("-L")
        .arg(&lib_dir)
        .arg("-lwxface")
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("gcc is installed");
    assert!(status.success(), "gcc failed");
    out
}

fn run(cmd: &mut Command) -> String {
    // cargo test puts target/<profile> on LD_LIBRARY_PATH, which wins over the rpath and may
    // hold an older libwxface.so.0.1: point the loader at the library under test (lib/ beside
    // the program).
    let lib_dir = Path::new(cmd.get_program()).parent().unwrap().join("lib");
    let out = cmd.env("LD_LIBRARY_PATH", lib_dir).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && text.contains("ALL OK"), "{text}");
    text
}

#[test]
fn c_program_in_relay_mode_with_token_and_with_certificate() {
    let dir = TempDir::new("c");
    let exe = compile(dir.path());
    let mock = mock(MockConfig::default());
    let server_ca = Ca::new("relay server CA");
    let (scert, skey) = server_ca.issue("relay", &["127.0.0.1"]);
    let terminal_ca = Ca::new("merchant terminal CA");
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("server.pem"), &scert).unwrap();
    std::fs::write(p("server.key"), &skey).unwrap();
    std::fs::write(p("terminals.pem"), terminal_ca.pem()).unwrap();
    std::fs::write(p("ca.pem"), server_ca.pem()).unwrap();
    let (cert, key) = terminal_ca.issue("POS-CERT", &[]);
    std::fs::write(p("pos.pem"), &cert).unwrap();
    std::fs::write(p("pos.key"), &key).unwrap();
    let extra = "[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\nclient_ca = \"terminals.pem\"";
    let relay = RunningRelay::start(load_config(dir.path(), &mock.base_url(), extra));
    let t1 = token(dir.path(), "POS-01");

    let out = run(Command::new(&exe)
        .args([&relay.url, "cert"])
        .args([p("pos.pem"), p("pos.key"), p("ca.pem")])
        .arg("POS-CERT"));
    assert!(
        !out.contains("MOCKAUTHINFO"),
        "the program printed the authinfo"
    );
    assert_eq!(mock.request_count(), 2, "one success, one refusal");

    // The bearer token, to a second relay on plain loopback HTTP.
    let plain = RunningRelay::start(load_config(dir.path(), &mock.base_url(), ""));
    run(Command::new(&exe).args([plain.url.as_str(), "token", &t1, "POS-01"]));
    assert_eq!(mock.request_count(), 4);
    let audit = std::fs::read_to_string(p("audit.log")).unwrap();
    assert!(!audit.contains(&t1[4..]) && !audit.contains("MOCKAUTHINFO"));
}
