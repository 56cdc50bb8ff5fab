//! Compiles the C programs (examples-c/*.c and tests/c/test_ffi.c) against the freshly built
//! libwxface and runs them against the mock server, plainly and under valgrind. Also links
//! statically and compiles the header as C++.
//!
//! Needs gcc, g++ and valgrind (`.ci/run` installs them). The library under test is the one
//! cargo built for this test run (target/<profile>/deps/libwxface.{so,a}).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

mod field_support;

use field_support::proxy::{microsocks, tinyproxy};
use wxface_mock::{DEFAULT_KEY, MockConfig, MockServer, Scenario, TestCa};

struct Env {
    /// Directory holding libwxface.so under its file name and its SONAME.
    lib_dir: PathBuf,
    static_lib: PathBuf,
    work: PathBuf,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let deps = exe.parent().unwrap();
        let shared = deps.join("libwxface.so");
        let static_lib = deps.join("libwxface.a");
        assert!(
            shared.exists() && static_lib.exists(),
            "cargo did not build {} and libwxface.a",
            shared.display()
        );
        let work = std::env::temp_dir().join(format!("wxface-c-abi-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        let soname = format!("libwxface.so.0.{}", env!("CARGO_PKG_VERSION_MINOR"));
        for name in ["libwxface.so", soname.as_str()] {
            std::os::unix::fs::symlink(&shared, work.join(name)).unwrap();
        }
        Env {
            lib_dir: work.clone(),
            static_lib,
            work,
        }
    })
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// How a test program is linked.
enum Link {
    /// Against libwxface.so, found at run time through an rpath.
    Shared,
    /// Against libwxface.a plus the system libraries it needs
    /// (`cargo rustc -- --print native-static-libs`).
    Static,
}

/// How a C test program is built and run.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Plain,
    /// Under valgrind's memcheck, leaks included.
    Valgrind,
    /// Compiled with gcc's AddressSanitizer (with LeakSanitizer) and UBSan; the library itself
    /// is not instrumented, but every allocation and free it makes goes through ASan's malloc.
    Sanitizers,
}

impl Mode {
    fn suffix(self) -> &'static str {
        match self {
            Mode::Plain => "",
            Mode::Valgrind => "_vg",
            Mode::Sanitizers => "_asan",
        }
    }

    fn cflags(self) -> &'static [&'static str] {
        match self {
            Mode::Sanitizers => &["-fsanitize=address,undefined", "-fno-omit-frame-pointer"],
            _ => &[],
        }
    }

    /// The command that runs `exe` in this mode.
    fn command(self, exe: &Path) -> Command {
        let mut cmd = self.bare_command(exe);
        // cargo test puts target/<profile> on LD_LIBRARY_PATH, which wins over the rpath and
        // may hold an older libwxface.so.0.1: point the loader at the library under test.
        cmd.env("LD_LIBRARY_PATH", &env().lib_dir);
        cmd
    }

    fn bare_command(self, exe: &Path) -> Command {
        match self {
            Mode::Plain => Command::new(exe),
            Mode::Valgrind => valgrind(exe),
            Mode::Sanitizers => {
                let mut cmd = Command::new(exe);
                cmd.env(
                    "ASAN_OPTIONS",
                    "detect_leaks=1:halt_on_error=1:abort_on_error=0",
                )
                .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1");
                cmd
            }
        }
    }
}

/// Compiles one source with `compiler` (`gcc -std=c99` or `g++ -std=c++11`), warnings as
/// errors; returns the executable.
fn compile(compiler: &str, std: &str, source: &Path, link: Link, name: &str) -> PathBuf {
    compile_with(compiler, std, source, link, name, &[])
}

fn compile_with(
    compiler: &str,
    std: &str,
    source: &Path,
    link: Link,
    name: &str,
    flags: &[&str],
) -> PathBuf {
    let e = env();
    let exe = e.work.join(name);
    let mut cmd = Command::new(compiler);
    cmd.args([std, "-Wall", "-Wextra", "-Werror", "-g", "-pthread"])
        .args(flags)
        .arg("-I")
        .arg(root().join("include"))
        .arg(source);
    match link {
        Link::Shared => {
            cmd.arg("-L")
                .arg(&e.lib_dir)
                .arg("-lwxface")
                .arg(format!("-Wl,-rpath,{}", e.lib_dir.display()));
        }
        Link::Static => {
            cmd.arg(&e.static_lib).args([
                "-lpthread",
                "-ldl",
                "-lm",
                "-lrt",
                "-lutil",
                "-lgcc_s",
                "-lc",
            ]);
        }
    }
    let out = run(cmd.arg("-o").arg(&exe));
    assert!(
        out.status.success(),
        "{compiler} failed for {}:\n{}",
        source.display(),
        text(&out)
    );
    exe
}

/// Compiles one C source against the shared library for `mode`; returns the executable.
fn compile_c(source: &Path, name: &str, mode: Mode) -> PathBuf {
    let name = format!("{name}{}", mode.suffix());
    compile_with(
        "gcc",
        "-std=c99",
        source,
        Link::Shared,
        &name,
        mode.cflags(),
    )
}

fn refused_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

fn valgrind(exe: &Path) -> Command {
    let probe = Command::new("valgrind").arg("--version").output();
    assert!(
        probe.map(|o| o.status.success()).unwrap_or(false),
        "valgrind is required for the C ABI leak checks (apt-get install valgrind)"
    );
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--leak-check=full",
        "--error-exitcode=99",
        "--errors-for-leak-kinds=definite,indirect",
        "--quiet",
        // Deep enough that the suppressions see rustls under ureq's transport layers.
        "--num-callers=40",
    ])
    .arg(format!(
        "--suppressions={}",
        root().join("tests/c/valgrind.supp").display()
    ));
    // Extra valgrind flags for debugging, e.g. WXFACE_VALGRIND_ARGS=--gen-suppressions=all
    if let Ok(extra) = std::env::var("WXFACE_VALGRIND_ARGS") {
        cmd.args(extra.split_whitespace());
    }
    cmd.arg(exe);
    cmd
}

fn ffi_suite(mode: Mode) {
    let exe = compile_c(&root().join("tests/c/test_ffi.c"), "test_ffi", mode);
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let scratch = env().work.join(format!("named-files-{mode:?}"));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let out = run(mode
        .command(&exe)
        .env("WXFACE_MOCK_URL", mock.base_url())
        .env("WXFACE_MOCK_KEY", DEFAULT_KEY)
        .env("WXFACE_REFUSED_URL", refused_url())
        .env("WXFACE_BAD_CONFIG", root().join("tests/bad_config.tsv"))
        .env("WXFACE_TEST_DIR", &scratch)
        .env("WXFACE_TEST_CA_PEM", TestCa::new().unwrap().ca_pem()));
    let t = text(&out);
    assert!(out.status.success(), "test_ffi failed ({mode:?}):\n{t}");
    assert!(t.contains(" passed, 0 failed"), "unexpected output:\n{t}");
    // This library is the debug build, which has the panic hook: the panic test must have run.
    assert_eq!(
        t.contains("panic test ran"),
        cfg!(debug_assertions),
        "panic test ({mode:?}):\n{t}"
    );
}

#[test]
fn ffi_suite_plain() {
    ffi_suite(Mode::Plain);
}

#[test]
fn ffi_suite_under_valgrind() {
    ffi_suite(Mode::Valgrind);
}

#[test]
fn ffi_suite_under_sanitizers() {
    ffi_suite(Mode::Sanitizers);
}

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("examples-c"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no examples-c/*.c found");
    v
}

fn example_cmd(cmd: &mut Command, base_url: &str, rawdata: &str) -> Output {
    run(cmd
        .env("WXFACE_MCH_ID", "1900000109")
        .env("WXFACE_APPID", "wx2421b1c4370ec43b")
        .env("WXFACE_KEY", DEFAULT_KEY)
        .env("WXFACE_BASE_URL", base_url)
        .env("WXFACE_STORE_ID", "1001")
        .env("WXFACE_STORE_NAME", "深圳南山科技园店")
        .env("WXFACE_DEVICE_ID", "POS-01")
        .env("WXFACE_RAWDATA", rawdata))
}

fn run_examples(mode: Mode) {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    for source in examples() {
        let stem = source.file_stem().unwrap().to_string_lossy().into_owned();
        let exe = compile_c(&source, &stem, mode);
        let out = example_cmd(&mut mode.command(&exe), &mock.base_url(), "rawdata+/=");
        let t = text(&out);
        assert!(out.status.success(), "{stem} failed ({mode:?}):\n{t}");
        assert!(
            t.contains("authinfo: MOCKAUTHINFO") && t.contains("expires_in: 3600"),
            "{stem}:\n{t}"
        );
    }
}

#[test]
fn examples_succeed_against_the_mock() {
    run_examples(Mode::Plain);
}

#[test]
fn examples_succeed_under_valgrind() {
    run_examples(Mode::Valgrind);
}

#[test]
fn examples_succeed_under_sanitizers() {
    run_examples(Mode::Sanitizers);
}

#[test]
fn example_reports_remote_failure_and_exit_code() {
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let exe = compile_c(
        &root().join("examples-c/get_authinfo.c"),
        "get_authinfo_fail",
        Mode::Plain,
    );
    let out = example_cmd(
        &mut Mode::Plain.command(&exe),
        &mock.base_url(),
        "MOCK:signed-error",
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("WXFACE_ERR_REMOTE")
            && t.contains("return_code: ERROR")
            && t.contains("无效的RawData数据"),
        "{t}"
    );
    assert!(
        !t.contains(DEFAULT_KEY),
        "the key leaked into the output:\n{t}"
    );
    // Arguments take precedence over the environment.
    let out = example_cmd(
        Mode::Plain.command(&exe).arg("--key=short"),
        &mock.base_url(),
        "x",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("WXFACE_ERR_INVALID_ARGUMENT"),
        "{}",
        text(&out)
    );
}

/// `--ca-file` (WXFACE_CA_FILE): a terminal behind a private CA, or the mock over TLS. Without
/// it the mock's test CA is not trusted and the example reports a TLS failure.
#[test]
fn example_trusts_a_ca_file_over_tls() {
    let ca = TestCa::new().unwrap();
    let tls = MockServer::start(MockConfig {
        tls: Some(ca.server_identity(&["localhost"]).unwrap()),
        ..MockConfig::default()
    })
    .unwrap();
    let ca_file = env().work.join("example-ca.pem");
    std::fs::write(&ca_file, ca.ca_pem()).unwrap();
    let exe = compile_c(
        &root().join("examples-c/get_authinfo.c"),
        "get_authinfo_tls",
        Mode::Plain,
    );
    let url = tls.base_url().replace("127.0.0.1", "localhost");
    let untrusted = example_cmd(&mut Mode::Plain.command(&exe), &url, "rawdata");
    assert_eq!(untrusted.status.code(), Some(1), "{}", text(&untrusted));
    assert!(
        text(&untrusted).contains("WXFACE_ERR_TLS"),
        "{}",
        text(&untrusted)
    );
    let trusted = example_cmd(
        Mode::Plain.command(&exe).env("WXFACE_CA_FILE", &ca_file),
        &url,
        "rawdata",
    );
    assert!(trusted.status.success(), "{}", text(&trusted));
    assert!(
        text(&trusted).contains("authinfo: MOCKAUTHINFO"),
        "{}",
        text(&trusted)
    );
}

#[test]
fn static_link_works() {
    let exe = compile(
        "gcc",
        "-std=c99",
        &root().join("examples-c/get_authinfo.c"),
        Link::Static,
        "get_authinfo_static",
    );
    let ldd = text(&run(Command::new("ldd").arg(&exe)));
    assert!(
        !ldd.contains("libwxface"),
        "statically linked binary still needs libwxface.so:\n{ldd}"
    );
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let out = example_cmd(&mut Command::new(&exe), &mock.base_url(), "rawdata");
    assert!(
        out.status.success() && text(&out).contains("expires_in: 3600"),
        "{}",
        text(&out)
    );
}

#[test]
fn header_compiles_as_cpp() {
    let exe = compile(
        "g++",
        "-std=c++11",
        &root().join("tests/c/header_cpp.cpp"),
        Link::Shared,
        "header_cpp",
    );
    assert!(run(&mut Mode::Plain.command(&exe)).status.success());
}

/// The field options through the C ABI: cache, retries, deadline, failover, clock correction,
/// TLS trust, real proxies and the log callback (tests/c/test_field.c).
fn field_suite(mode: Mode) {
    let exe = compile_c(&root().join("tests/c/test_field.c"), "test_field", mode);
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let flaky = MockServer::start(MockConfig {
        fail_first: 3,
        fail_with: Scenario::Http500,
        ..MockConfig::default()
    })
    .unwrap();
    let skewed = MockServer::start(MockConfig {
        clock_offset_secs: 1000,
        ..MockConfig::default()
    })
    .unwrap();
    let ca = TestCa::new().unwrap();
    let tls = MockServer::start(MockConfig {
        tls: Some(ca.server_identity(&["127.0.0.1", "localhost"]).unwrap()),
        ..MockConfig::default()
    })
    .unwrap();
    let wrong = MockServer::start(MockConfig {
        tls: Some(ca.server_identity(&["payapp.example.invalid"]).unwrap()),
        ..MockConfig::default()
    })
    .unwrap();
    let ca_file = env().work.join(format!("ca-{mode:?}.pem"));
    std::fs::write(&ca_file, ca.ca_pem()).unwrap();
    // Trust stores laid out like Android's cacerts: hashed name, PEM block, then a text dump.
    let android_dir = env().work.join(format!("cacerts-{mode:?}"));
    let other_dir = env().work.join(format!("cacerts-other-{mode:?}"));
    for (dir, pem) in [
        (&android_dir, ca.ca_pem()),
        (&other_dir, TestCa::new().unwrap().ca_pem()),
    ] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("5ed36f99.0"),
            format!("{pem}Certificate:\n    Data:\n        Version: 3 (0x2)\n"),
        )
        .unwrap();
    }
    let http_proxy = tinyproxy(None);
    let socks_proxy = microsocks(None);

    let mut cmd = mode.command(&exe);
    let out = run(cmd
        .env("WXFACE_MOCK_KEY", DEFAULT_KEY)
        .env("WXFACE_MOCK_URL", mock.base_url())
        .env("WXFACE_FLAKY_URL", flaky.base_url())
        .env("WXFACE_SKEWED_URL", skewed.base_url())
        .env("WXFACE_TLS_URL", tls.base_url())
        .env("WXFACE_TLS_WRONG_URL", wrong.base_url())
        .env("WXFACE_TLS_CA", &ca_file)
        .env("WXFACE_TLS_ANDROID_DIR", &android_dir)
        .env("WXFACE_TLS_OTHER_DIR", &other_dir)
        .env("WXFACE_REFUSED_URL", refused_url())
        .env("WXFACE_HTTP_PROXY", http_proxy.url("http"))
        .env("WXFACE_SOCKS_PROXY", socks_proxy.url("socks5")));
    let t = text(&out);
    assert!(out.status.success(), "test_field failed ({mode:?}):\n{t}");
    assert!(t.contains(" passed, 0 failed"), "unexpected output:\n{t}");
    assert!(
        http_proxy.log().contains("CONNECT"),
        "tinyproxy saw no CONNECT: {}",
        http_proxy.log()
    );
}

#[test]
fn field_suite_plain() {
    field_suite(Mode::Plain);
}

#[test]
fn field_suite_under_valgrind() {
    field_suite(Mode::Valgrind);
}

#[test]
fn field_suite_under_sanitizers() {
    field_suite(Mode::Sanitizers);
}
