//! `wxface`: get a WeChat Pay face-SDK authinfo, diagnose a terminal, sign and verify APIv2
//! messages. Built on the `wxface` library's Rust API.

mod doctor;
mod net;
mod settings;
mod signcmd;

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use settings::{ConfigArgs, Settings};

const ROOT_HELP: &str = "\
Settings have one name everywhere: flag --mch-id, environment WXFACE_MCH_ID, config file
`mch_id = \"...\"` (flags win over the environment, which wins over the file). The API key is
read only from WXFACE_KEY or `key` in the config file, never from the command line, and is never
printed.

Examples:
  WXFACE_KEY=... wxface authinfo --mch-id 1900000109 --appid wx2421b1c4370ec43b \\
      --store-id 1001 --store-name 南山店 --device-id POS-01 --rawdata \"$RAWDATA\"
  wxface doctor --config /etc/wxface.toml
  printf 'appid=wx2421b1c4370ec43b\\nmch_id=1900000109\\n' | WXFACE_KEY=... wxface sign";

const AUTHINFO_HELP: &str = "\
Prints expires_in and the authinfo's length; the authinfo itself is a credential and goes only
to --save-authinfo FILE (created with mode 600). On failure prints the status, the message and
WeChat's return_code/return_msg.

Exit codes: 0 success; 10 + the C status code otherwise: 11 invalid argument (also missing or
bad settings), 12 network, 13 timeout, 14 TLS, 15 HTTP status, 16 bad response, 17 bad
signature, 18 WeChat refused (return_code/return_msg); 1 cannot write --save-authinfo; 2 usage.

Example:
  export WXFACE_KEY=...   # or `key = \"...\"` in a file readable only by you
  wxface authinfo --config wxface.toml --rawdata \"$RAWDATA\" --save-authinfo /run/authinfo --json";

const DOCTOR_HELP: &str = "\
Runs, in order, printing each step with its time, ✓/✗ and for a failure the likely cause and
fix: configuration (id formats, key length, sign type, CA file) → DNS → TCP (direct or through
the proxy) → TLS (trust roots, host name, days until the certificate expires; a middlebox's
certificate is named) → clock (the server's HTTP Date; more than 5 minutes off causes
非法的Now参数) → a signed probe with a deliberately invalid rawdata, whose answer is the verdict:
无效的RawData数据 = key, sign type and ids accepted; 签名错误 = wrong key or sign type;
请检查mchid,... = the ids do not belong together; SYSTEMERROR = no face-pay permission.
The whole run is bounded by --timeout-secs (default 20).

Exit codes (the first failed step decides): 0 all passed, 20 configuration, 21 DNS, 22 TCP or
proxy, 23 TLS, 24 clock, 25 wrong key or sign type, 26 ids do not belong together, 27 no
face-pay permission (SYSTEMERROR), 28 other probe failure, 29 deadline ran out; 2 usage.

Examples:
  WXFACE_KEY=... wxface doctor --mch-id 1900000109 --appid wx2421b1c4370ec43b
  wxface doctor --config /etc/wxface.toml --proxy http://10.0.0.1:3128 --json";

const SIGN_HELP: &str = "\
Reads a request body on stdin, as XML (<xml><appid>..</appid>...</xml>) or name=value lines,
and prints the exact string that is signed (the key shown as key=***) and the signature. The
sign type is --sign-type, else the body's sign_type field, else HMAC-SHA256. If the body has a
sign field, says whether it matches. Exit code 0, or 1 when the body's sign does not match.

Example:
  printf 'appid=wx2421b1c4370ec43b\\nmch_id=1900000109\\nnonce_str=abc\\n' | WXFACE_KEY=... wxface sign --sign-type MD5";

const VERIFY_HELP: &str = "\
Reads a response XML on stdin and checks its sign (MD5 or HMAC-SHA256, from its length) over
every field, as WeChat signs; if that fails, over the documented fields only, and says which
field set the signature covers. Exit code 0 when valid over all fields, 1 otherwise.

Example:
  WXFACE_KEY=... wxface verify < response.xml";

#[derive(Parser)]
#[command(name = "wxface", version, about = "WeChat Pay face-SDK authinfo: get one, diagnose a terminal, sign and verify", after_help = ROOT_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Get one authinfo
    #[command(after_help = AUTHINFO_HELP)]
    Authinfo(AuthinfoArgs),
    /// Check configuration, DNS, TCP, TLS, clock and a signed probe, with a verdict per step
    #[command(after_help = DOCTOR_HELP)]
    Doctor(DoctorArgs),
    /// Sign a request body read on stdin and show the signed string
    #[command(after_help = SIGN_HELP)]
    Sign(SignArgs),
    /// Verify a response's signature read on stdin
    #[command(after_help = VERIFY_HELP)]
    Verify(SignArgs),
}

#[derive(Args)]
struct AuthinfoArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// The face SDK's rawdata, byte for byte [env: WXFACE_RAWDATA]
    #[arg(long)]
    rawdata: Option<String>,
    /// Write the authinfo to this file (mode 600); it is never printed
    #[arg(long, value_name = "FILE")]
    save_authinfo: Option<PathBuf>,
    /// One JSON object on stdout
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct DoctorArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// One JSON object on stdout instead of the checklist
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct SignArgs {
    /// TOML file with `key` (and optionally `sign_type`); also WXFACE_CONFIG
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// MD5 or HMAC-SHA256 [env: WXFACE_SIGN_TYPE]
    #[arg(long)]
    sign_type: Option<String>,
    /// One JSON object on stdout
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Authinfo(a) => authinfo(&a),
        Command::Doctor(a) => run_doctor(&a),
        Command::Sign(a) => sign_or_verify(&a, false),
        Command::Verify(a) => sign_or_verify(&a, true),
    };
    ExitCode::from(code)
}

fn print_json(v: &impl serde::Serialize) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("wxface: cannot encode JSON: {e}"),
    }
}

fn warn_all(s: &Settings) {
    for w in &s.warnings {
        eprintln!("wxface: {w}");
    }
}

#[derive(serde::Serialize)]
struct AuthinfoJson {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authinfo_bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    saved_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_msg: Option<String>,
}

fn authinfo(a: &AuthinfoArgs) -> u8 {
    let invalid = |msg: String| {
        let out = AuthinfoJson {
            ok: false,
            expires_in: None,
            authinfo_bytes: None,
            saved_to: None,
            status: Some(wxface::ErrorKind::InvalidArgument.code()),
            status_name: Some(wxface::ErrorKind::InvalidArgument.name()),
            message: Some(msg.clone()),
            return_code: None,
            return_msg: None,
        };
        if a.json {
            print_json(&out);
        } else {
            eprintln!("wxface: {msg}");
        }
        11
    };
    let s = match Settings::load(&a.config, &[("rawdata", a.rawdata.clone())]) {
        Ok(s) => s,
        Err(e) => return invalid(e),
    };
    warn_all(&s);
    let timeout = match s.timeout(wxface::DEFAULT_TIMEOUT) {
        Ok(t) => t,
        Err(e) => return invalid(e),
    };
    let config = match s.build_config(timeout, |b| b) {
        Ok(c) => c,
        Err(e) => return invalid(e),
    };
    let mut missing = Vec::new();
    let mut field = |name: &'static str| {
        s.get(name).map(str::to_owned).unwrap_or_else(|| {
            missing.push(name);
            String::new()
        })
    };
    let request = wxface::AuthinfoRequest::new(
        field("store_id"),
        field("store_name"),
        field("device_id"),
        field("rawdata"),
    );
    if !missing.is_empty() {
        return invalid(format!("required: {}", missing.join(", ")));
    }
    let client = match wxface::Client::new(config) {
        Ok(c) => c,
        Err(e) => return invalid(e.to_string()),
    };
    match client.get_authinfo(&request) {
        Ok(info) => {
            let mut saved = None;
            if let Some(path) = &a.save_authinfo {
                if let Err(e) = save_secret(path, info.authinfo.as_bytes()) {
                    eprintln!("wxface: cannot write {}: {e}", path.display());
                    return 1;
                }
                saved = Some(path.display().to_string());
            }
            if a.json {
                print_json(&AuthinfoJson {
                    ok: true,
                    expires_in: Some(info.expires_in),
                    authinfo_bytes: Some(info.authinfo.len()),
                    saved_to: saved,
                    status: Some(0),
                    status_name: Some("WXFACE_OK"),
                    message: None,
                    return_code: None,
                    return_msg: None,
                });
            } else {
                println!("status: WXFACE_OK");
                println!("expires_in: {}", info.expires_in);
                match saved {
                    Some(p) => println!("authinfo: {} bytes, written to {p}", info.authinfo.len()),
                    None => println!(
                        "authinfo: {} bytes (not shown; --save-authinfo FILE writes it)",
                        info.authinfo.len()
                    ),
                }
            }
            0
        }
        Err(e) => {
            let kind = e.kind();
            let (rc, rm) = e
                .remote()
                .map(|(c, m)| (c.to_owned(), m.to_owned()))
                .unzip();
            if a.json {
                print_json(&AuthinfoJson {
                    ok: false,
                    expires_in: None,
                    authinfo_bytes: None,
                    saved_to: None,
                    status: Some(kind.code()),
                    status_name: Some(kind.name()),
                    message: Some(e.to_string()),
                    return_code: rc,
                    return_msg: rm,
                });
            } else {
                println!("status: {} ({})", kind.name(), kind.code());
                println!("message: {e}");
                if let (Some(c), Some(m)) = (rc, rm) {
                    println!("return_code: {c}");
                    println!("return_msg: {m}");
                }
            }
            u8::try_from(10 + kind.code()).unwrap_or(1)
        }
    }
}

/// Writes `data` to a new file only the owner can read.
fn save_secret(path: &std::path::Path, data: &[u8]) -> io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

fn run_doctor(a: &DoctorArgs) -> u8 {
    let s = match Settings::load(&a.config, &[]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wxface: {e}");
            return doctor::exit::CONFIG;
        }
    };
    warn_all(&s);
    let budget = match s.timeout(Duration::from_secs(20)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("wxface: {e}");
            return doctor::exit::CONFIG;
        }
    };
    let report = doctor::run(&s, budget, !a.json);
    if a.json {
        print_json(&report);
    }
    report.exit_code
}

fn sign_or_verify(a: &SignArgs, verify: bool) -> u8 {
    let args = ConfigArgs {
        config: a.config.clone(),
        sign_type: a.sign_type.clone(),
        ..Default::default()
    };
    let fail = |msg: String| {
        eprintln!("wxface: {msg}");
        2
    };
    let s = match Settings::load(&args, &[]) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    warn_all(&s);
    let Some(key) = s.key() else {
        return fail("no API key: set WXFACE_KEY or `key` in the config file".into());
    };
    let key = match wxface::ApiKey::new(key.as_str().to_owned()) {
        Ok(k) => k,
        Err(e) => return fail(e.to_string()),
    };
    let mut input = String::new();
    if let Err(e) = io::stdin().read_to_string(&mut input) {
        return fail(format!("cannot read standard input: {e}"));
    }
    let fields = match signcmd::parse_body(&input) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    if verify {
        let out = signcmd::verify(&fields, &key);
        if a.json {
            print_json(&out);
        } else {
            println!("signed string: {}", out.string_to_sign);
            if let Some(st) = out.sign_type {
                println!("sign_type: {st} (from the signature's length)");
            }
            println!(
                "{}: {}",
                if out.valid { "valid" } else { "INVALID" },
                out.message
            );
        }
        return u8::from(!out.valid);
    }
    // flag, then WXFACE_SIGN_TYPE, then the file; else the body's sign_type.
    let explicit = match s
        .get("sign_type")
        .map(settings::parse_sign_type)
        .transpose()
    {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    match signcmd::sign(&fields, &key, explicit) {
        Ok(out) => {
            let matches = out.given_sign_matches;
            if a.json {
                print_json(&out);
            } else {
                println!("sign_type: {}", out.sign_type);
                println!("signed string: {}", out.string_to_sign);
                println!("sign: {}", out.sign);
                match matches {
                    Some(true) => println!("the body's sign matches"),
                    Some(false) => println!("the body's sign does NOT match"),
                    None => {}
                }
            }
            u8::from(matches == Some(false))
        }
        Err(e) => fail(e),
    }
}
