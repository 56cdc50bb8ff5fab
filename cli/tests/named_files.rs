//! Files named on the command line (`--config`, which holds the key; `--ca-file`) are read by the
//! library's reader (`wxface::file`): only regular files of at most `MAX_FILE_BYTES`, never
//! blocking on a FIFO. /dev/zero, a FIFO without a writer, a sparse file over the cap and a
//! directory are refused with the setting's name, by `authinfo` and `doctor` alike (exit 11,
//! invalid argument, in every command). The CLI has no setting that names a directory of files.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use support::*;
use wxface::file::MAX_FILE_BYTES;

/// Only a bound against a hang: a correct CLI answers at once.
const HANG: Duration = Duration::from_secs(60);

/// Runs `wxface args…` with `env`; a run that has not ended after [`HANG`] is killed and fails
/// the test (a CLI that opened a FIFO and waited for a writer).
fn bounded(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxface"));
    cmd.args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn wxface");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(HANG) {
        Ok(out) => out.expect("wait for wxface"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("wxface {args:?} still running after {HANG:?}: blocked on a file?");
        }
    };
    let run = Run {
        code: out.status.code().expect("exit code, not a signal"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    };
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
    run
}

/// The hostile paths and what the refusal says about each.
fn hostile(dir: &Path) -> Vec<(PathBuf, String)> {
    let fifo = dir.join("named.fifo");
    let st = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(st.success());
    let big = dir.join("too-large.toml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(MAX_FILE_BYTES + 1).unwrap();
    // /dev/zero last: a CLI that read it would exhaust the memory, not stop.
    vec![
        (fifo, "is not a regular file (it is a FIFO)".into()),
        (big, format!("is larger than {MAX_FILE_BYTES} bytes")),
        (
            dir.to_path_buf(),
            "is not a regular file (it is a directory)".into(),
        ),
        (
            PathBuf::from("/dev/zero"),
            "is not a regular file (it is a character device)".into(),
        ),
    ]
}

#[test]
fn the_config_file_and_the_ca_file_are_read_safely() {
    let server = start(MockConfig::default());
    let url = server.base_url();
    let dir = std::env::temp_dir().join(format!("wxface-cli-named-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    let env = env_for(KEY);
    let request = [
        "authinfo",
        "--base-url",
        url.as_str(),
        "--store-id",
        "1001",
        "--store-name",
        "店",
        "--device-id",
        "POS-01",
        "--rawdata",
        "r",
    ];
    for (path, why) in hostile(&dir) {
        let path = path.to_str().unwrap();
        for command in [&request[..], &["doctor", "--base-url", url.as_str()]] {
            let exit = 11;

            let mut args = command.to_vec();
            args.extend(["--config", path]);
            let run = bounded(&args, &env);
            assert_eq!(run.code, exit, "{args:?}: {}{}", run.stdout, run.stderr);
            let said = format!("invalid config: {path} {why}");
            assert!(run.stderr.contains(&said), "{args:?}: {}", run.stderr);

            let mut args = command.to_vec();
            args.extend(["--ca-file", path]);
            let run = bounded(&args, &env);
            assert_eq!(run.code, exit, "{args:?}: {}{}", run.stdout, run.stderr);
            let said = format!("invalid ca_file: {path} {why}");
            let out = format!("{}{}", run.stdout, run.stderr);
            assert!(out.contains(&said), "{args:?}: {out}");
        }
    }
    assert_eq!(server.request_count(), 0, "nothing was sent");
    std::fs::remove_dir_all(&dir).ok();
}
