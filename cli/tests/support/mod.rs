//! Running the `wxface` binary against in-process mocks, with every output checked for keys.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

#[allow(unused_imports)]
pub use wxface_mock::{MockConfig, MockServer, Scenario, TestCa};

/// The key the CLI is given (the mock's default key, so signatures agree).
pub const KEY: &str = wxface_mock::DEFAULT_KEY;
/// A different, valid-looking key for the wrong-key case.
pub const WRONG_KEY: &str = "WRONGkey0123456789abcdefABCDEF99";
pub const MCH_ID: &str = "1900000109";
pub const APPID: &str = "wx2421b1c4370ec43b";

/// What one run of the binary produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The doctor's JSON step named `name`.
    pub fn step(&self, name: &str) -> serde_json::Value {
        let v = self.json();
        v["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no step {name} in {}", self.stdout))
    }
}

/// Runs `wxface args…` with only the given environment variables (the caller's environment,
/// proxies included, is cleared) and `stdin`. Fails the test if any output contains a key.
pub fn wxface(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxface"));
    cmd.args(args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn wxface");
    // A command that does not read standard input may have ended already.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    let out = child.wait_with_output().expect("wait for wxface");
    let run = Run {
        code: out.status.code().expect("exit code, not a signal"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    };
    let mut secrets: Vec<&str> = vec![KEY, WRONG_KEY, "192006250b4c09247ec02edce69f6a2d"];
    secrets.extend(
        env.iter()
            .filter(|(k, _)| *k == "WXFACE_KEY")
            .map(|(_, v)| *v),
    );
    for secret in secrets {
        for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !text.contains(secret),
                "the key appears in {name} of wxface {args:?}:\n{text}"
            );
        }
    }
    run
}

/// The environment of a correctly configured terminal.
pub fn env_for(key: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("WXFACE_KEY", key),
        ("WXFACE_MCH_ID", MCH_ID),
        ("WXFACE_APPID", APPID),
    ]
}

pub fn start(config: MockConfig) -> MockServer {
    MockServer::start(config).expect("start mock")
}

/// `wxface doctor --json --base-url URL extra…` with `env`.
pub fn doctor(url: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args = vec!["doctor", "--json", "--base-url", url];
    args.extend_from_slice(extra);
    wxface(&args, env, "")
}

/// Asserts the doctor failed at `step` with `code` and a detail containing `text`.
pub fn assert_verdict(run: &Run, step: &str, code: i32, text: &str) {
    assert_eq!(
        run.code, code,
        "exit code; stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let v = run.json();
    assert_eq!(v["ok"], false, "{}", run.stdout);
    assert_eq!(v["failed_step"], step, "{}", run.stdout);
    assert_eq!(v["exit_code"], code, "{}", run.stdout);
    let s = run.step(step);
    assert_eq!(s["status"], "fail", "{}", run.stdout);
    assert_eq!(s["exit_code"], code, "{}", run.stdout);
    assert!(
        s["detail"].as_str().unwrap_or_default().contains(text),
        "step {step} detail lacks {text:?}: {s}"
    );
    assert!(s["cause"].as_str().is_some_and(|c| !c.is_empty()), "{s}");
    assert!(s["fix"].as_str().is_some_and(|c| !c.is_empty()), "{s}");
}
