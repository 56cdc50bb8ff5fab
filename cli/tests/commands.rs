//! `wxface authinfo`, `sign`, `verify`, the config file and `--help`. Every output is checked
//! for the key (support::wxface).

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use support::*;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wxface-cli-cmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn request_args(url: &str) -> Vec<String> {
    [
        "authinfo",
        "--base-url",
        url,
        "--store-id",
        "1001",
        "--store-name",
        "深圳南山科技园店",
        "--device-id",
        "POS-01",
        "--rawdata",
        "cli+rawdata/from=the-face-sdk",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn run_authinfo(url: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args = request_args(url);
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    wxface(&args, env, "")
}

#[test]
fn authinfo_json_success_never_prints_the_authinfo() {
    let server = start(MockConfig::default());
    let saved = tmp("authinfo.txt");
    let _ = std::fs::remove_file(&saved);
    let run = run_authinfo(
        &server.base_url(),
        &["--json", "--save-authinfo", saved.to_str().unwrap()],
        &env_for(KEY),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let v = run.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["expires_in"], 3600);
    assert_eq!(v["status_name"], "WXFACE_OK");
    let authinfo = std::fs::read_to_string(&saved).unwrap();
    assert!(authinfo.starts_with("MOCKAUTHINFO"), "{authinfo}");
    assert_eq!(v["authinfo_bytes"], authinfo.len());
    assert_eq!(
        std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!run.stdout.contains(&authinfo));
    // The request carried what the flags said.
    let req = server.requests().pop().unwrap();
    assert_eq!(req.field("store_name"), Some("深圳南山科技园店"));
    assert_eq!(req.field("rawdata"), Some("cli+rawdata/from=the-face-sdk"));
    assert_eq!(req.field("sign_type"), Some("HMAC-SHA256"));

    let run = run_authinfo(&server.base_url(), &[], &env_for(KEY));
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("expires_in: 3600"), "{}", run.stdout);
    assert!(!run.stdout.contains("MOCKAUTHINFO"), "{}", run.stdout);
}

#[test]
fn authinfo_failures_give_status_and_return_msg() {
    let server = start(MockConfig::default());
    let run = run_authinfo(&server.base_url(), &["--json"], &env_for(WRONG_KEY));
    assert_eq!(run.code, 18, "{}", run.stdout);
    let v = run.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["status"], 8);
    assert_eq!(v["status_name"], "WXFACE_ERR_REMOTE");
    assert_eq!(v["return_code"], "PARAM_ERROR");
    assert_eq!(v["return_msg"], "签名错误");

    let run = run_authinfo(&server.base_url(), &[], &env_for(WRONG_KEY));
    assert_eq!(run.code, 18);
    assert!(
        run.stdout.contains("return_msg: 签名错误"),
        "{}",
        run.stdout
    );

    // Missing request fields and a missing key are invalid arguments (11), nothing sent.
    let before = server.request_count();
    let run = wxface(
        &["authinfo", "--base-url", &server.base_url(), "--json"],
        &env_for(KEY),
        "",
    );
    assert_eq!(run.code, 11, "{}", run.stdout);
    let v = run.json();
    assert_eq!(v["status_name"], "WXFACE_ERR_INVALID_ARGUMENT");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("store_id, store_name, device_id, rawdata")
    );
    let run = run_authinfo(
        &server.base_url(),
        &[],
        &[("WXFACE_MCH_ID", MCH_ID), ("WXFACE_APPID", APPID)],
    );
    assert_eq!(run.code, 11);
    assert!(run.stderr.contains("no API key"), "{}", run.stderr);
    assert_eq!(server.request_count(), before);

    // HTTP 500 is status 5 (exit 15) after the library's retries.
    let failing = start(MockConfig {
        scenario: Scenario::Http500,
        ..Default::default()
    });
    let run = run_authinfo(&failing.base_url(), &["--json"], &env_for(KEY));
    assert_eq!(run.code, 15, "{}", run.stdout);
}

#[test]
fn the_key_flag_does_not_exist() {
    let run = wxface(&["authinfo", "--key", KEY], &[], "");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--key"), "{}", run.stderr);
}

#[test]
fn config_file_env_and_flags_share_names_with_precedence() {
    let server = start(MockConfig::default());
    let file = tmp("wxface.toml");
    std::fs::write(
        &file,
        format!(
            "mch_id = 1900000109\nappid = \"{APPID}\"\nkey = \"{KEY}\"\nstore_id = \"from-file\"\nstore_name = \"店\"\ndevice_id = \"file-dev\"\nrawdata = \"r\"\nbase_url = \"{}\"\nsign_type = \"MD5\"\n",
            server.base_url()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cfg = file.to_str().unwrap();
    let run = wxface(
        &["authinfo", "--config", cfg, "--device-id", "flag-dev"],
        &[
            ("WXFACE_STORE_ID", "from-env"),
            ("WXFACE_DEVICE_ID", "env-dev"),
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let req = server.requests().pop().unwrap();
    assert_eq!(
        req.field("device_id"),
        Some("flag-dev"),
        "flag beats env and file"
    );
    assert_eq!(req.field("store_id"), Some("from-env"), "env beats file");
    assert_eq!(
        req.field("mch_id"),
        Some("1900000109"),
        "numbers are accepted"
    );
    assert_eq!(req.field("sign_type"), Some("MD5"));

    // WXFACE_CONFIG names the file too; a world-readable file with the key gets a warning.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = wxface(&["authinfo"], &[("WXFACE_CONFIG", cfg)], "");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("readable by group/others (mode 644)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);

    // Unknown names are refused; a TOML error does not quote the line (it may hold the key).
    std::fs::write(&file, "mch_idd = \"1\"\n").unwrap();
    let run = wxface(&["authinfo", "--config", cfg], &[], "");
    assert_eq!(run.code, 11);
    assert!(
        run.stderr.contains("unknown setting \"mch_idd\""),
        "{}",
        run.stderr
    );
    std::fs::write(&file, format!("key = \"{KEY}\n")).unwrap();
    let run = wxface(&["doctor", "--config", cfg], &[], "");
    assert_eq!(run.code, 11);
    assert!(
        run.stderr.contains("not valid TOML at line 1"),
        "{}",
        run.stderr
    );
}

/// WeChat's documented example (key 192006250b4c09247ec02edce69f6a2d).
const DOC_BODY: &str = "appid=wxd930ea5d5a258f4f\nmch_id=10000100\ndevice_info=1000\nbody=test\nnonce_str=ibuaiVcKdpRxkhJA\n";
const DOC_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

#[test]
fn sign_shows_the_signed_string_and_the_signature() {
    let env = [("WXFACE_KEY", DOC_KEY)];
    let run = wxface(&["sign", "--sign-type", "MD5"], &env, DOC_BODY);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(
        "signed string: appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=***"
    ), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("sign: 9A0A8659F005D6984697E2CA0A9CF3B7"),
        "{}",
        run.stdout
    );

    let run = wxface(&["sign", "--json"], &env, DOC_BODY);
    let v = run.json();
    assert_eq!(v["sign_type"], "HMAC-SHA256");
    assert_eq!(
        v["sign"],
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    );

    // XML input, the body's own sign_type, and a check of the body's sign.
    let xml = "<xml><appid>wxd930ea5d5a258f4f</appid><mch_id>10000100</mch_id><device_info>1000</device_info><body><![CDATA[test]]></body><nonce_str>ibuaiVcKdpRxkhJA</nonce_str><sign>9A0A8659F005D6984697E2CA0A9CF3B7</sign></xml>";
    let run = wxface(&["sign", "--sign-type", "MD5"], &env, xml);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("the body's sign matches"),
        "{}",
        run.stdout
    );
    let run = wxface(&["sign"], &env, &xml.replace("test", "tost"));
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("does NOT match"), "{}", run.stdout);
    let run = wxface(&["sign"], &env, "sign_type=MD5\nappid=x\n");
    assert!(run.stdout.contains("sign_type: MD5"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("signed string: appid=x&sign_type=MD5&key=***"),
        "{}",
        run.stdout
    );
}

fn signed_response(extra: &[(&str, &str)], sign_over_known_only: bool, sign_type: &str) -> String {
    let mut fields: Vec<(String, String)> = [
        ("return_code", "SUCCESS"),
        ("return_msg", "请求成功"),
        ("appid", APPID),
        ("mch_id", MCH_ID),
        ("authinfo", "MOCKAUTHINFOabc"),
        ("expires_in", "3600"),
        ("nonce_str", "n0nce"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let known = fields.clone();
    fields.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let signed_over = if sign_over_known_only {
        &known
    } else {
        &fields
    };
    let sign = wxface_mock::sign(signed_over, KEY, sign_type);
    let mut xml = String::from("<xml>");
    for (k, v) in &fields {
        xml.push_str(&format!("<{k}><![CDATA[{v}]]></{k}>"));
    }
    xml.push_str(&format!("<sign>{sign}</sign></xml>"));
    xml
}

#[test]
fn verify_says_which_field_set_was_signed() {
    let env = [("WXFACE_KEY", KEY)];
    let good = signed_response(&[("extra_field", "x")], false, "HMAC-SHA256");
    let run = wxface(&["verify"], &env, &good);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("valid: valid HMAC-SHA256 signature over all 8"),
        "{}",
        run.stdout
    );

    let md5 = signed_response(&[], false, "MD5");
    let run = wxface(&["verify", "--json"], &env, &md5);
    assert_eq!(run.code, 0);
    let v = run.json();
    assert_eq!(v["valid"], true);
    assert_eq!(v["sign_type"], "MD5");
    assert_eq!(v["signed_over"], "all fields");

    let partial = signed_response(&[("extra_field", "x")], true, "HMAC-SHA256");
    let run = wxface(&["verify", "--json"], &env, &partial);
    assert_eq!(run.code, 1);
    let v = run.json();
    assert_eq!(v["valid"], false);
    assert_eq!(v["signed_over"], "documented fields only");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("leaving out extra_field"),
        "{v}"
    );

    let tampered = good.replace("MOCKAUTHINFOabc", "MOCKAUTHINFOabd");
    let run = wxface(&["verify"], &env, &tampered);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("INVALID: the HMAC-SHA256 signature matches neither"),
        "{}",
        run.stdout
    );
    let run = wxface(&["verify"], &[("WXFACE_KEY", WRONG_KEY)], &good);
    assert_eq!(run.code, 1);
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in ["authinfo", "doctor", "sign", "verify"] {
        let run = wxface(&[sub, "--help"], &[], "");
        assert_eq!(run.code, 0, "{sub}");
        assert!(
            run.stdout.contains("Example"),
            "{sub} --help:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains(&format!("wxface {sub}")),
            "{sub} --help:\n{}",
            run.stdout
        );
    }
    let run = wxface(&["doctor", "--help"], &[], "");
    for code in std::iter::once(11).chain(21..=29) {
        assert!(
            run.stdout.contains(&code.to_string()),
            "doctor exit code {code} undocumented"
        );
    }
    let run = wxface(&["--help"], &[], "");
    assert!(run.stdout.contains("Examples:"), "{}", run.stdout);
}

/// Exit codes mean the same in every command: a missing key or a bad setting is 11 (invalid
/// argument) whichever command meets it, and 2 is only ever a usage error.
#[test]
fn exit_codes_mean_the_same_in_every_command() {
    let server = start(MockConfig::default());
    let url = server.base_url();
    let no_key = [("WXFACE_MCH_ID", MCH_ID), ("WXFACE_APPID", APPID)];
    let body = "appid=wx2421b1c4370ec43b\nmch_id=1900000109\n";
    for args in [
        vec!["authinfo", "--base-url", &url, "--rawdata", "r"],
        vec!["doctor", "--base-url", &url],
        vec!["sign"],
        vec!["verify"],
    ] {
        let run = wxface(&args, &no_key, body);
        assert_eq!(run.code, 11, "missing key, {args:?}: {}", run.stderr);
        assert!(run.stderr.contains("no API key") || run.stdout.contains("no API key"));
        // A config file that cannot be read, named in the environment, the same way.
        let mut bad = env_for(KEY);
        bad.push(("WXFACE_CONFIG", "/nonexistent/wxface.toml"));
        let run = wxface(&args, &bad, body);
        assert_eq!(run.code, 11, "unreadable config, {args:?}: {}", run.stderr);
        let mut usage = args.clone();
        usage.push("--no-such-flag");
        assert_eq!(wxface(&usage, &env_for(KEY), body).code, 2, "{args:?}");
    }
}

/// `wxface … | head` that closes its end: each command stops quietly, without a panic or a
/// message, with exit code 141. The read end is closed before the command starts, so its first
/// write fails, whatever the timing.
#[test]
fn a_closed_pipe_ends_each_command_quietly() {
    let server = start(MockConfig::default());
    let url = server.base_url();
    let body = "appid=wx2421b1c4370ec43b\nmch_id=1900000109\n";
    let request = [
        "--store-id",
        "1001",
        "--store-name",
        "店",
        "--device-id",
        "POS-1",
        "--rawdata",
        "r",
    ];
    let mut authinfo = vec!["authinfo", "--base-url", &url];
    authinfo.extend(request);
    let mut authinfo_json = authinfo.clone();
    authinfo_json.push("--json");
    for args in [
        vec!["doctor", "--base-url", &url],
        vec!["doctor", "--base-url", &url, "--json"],
        authinfo,
        authinfo_json,
        vec!["sign"],
        vec!["verify"],
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_wxface"));
        cmd.args(&args)
            .env_clear()
            .envs(env_for(KEY))
            .stdin(std::process::Stdio::piped())
            .stdout(writer)
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("spawn wxface");
        // A command that does not read stdin may be gone already.
        let _ = std::io::Write::write_all(&mut child.stdin.take().unwrap(), body.as_bytes());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} printed on stderr: {stderr}");
    }
}
