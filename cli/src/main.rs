//! `wxface`: get a WeChat Pay face-SDK authinfo, diagnose a terminal, sign and verify APIv2
//! messages. Built on the `wxface` library's Rust API.

mod doctor;
mod net;
mod out;
mod settings;
mod signcmd;

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use out::{errln, outln};
use settings::{ConfigArgs, KeyArgs, Settings};

/// Exit codes, the same in every command.
pub mod exit {
    use wxface::ErrorKind;

    /// The command did its job and the answer is yes.
    pub const OK: u8 = 0;
    /// The command did its job and the answer is no: `verify` found the signature invalid,
    /// `sign` found that the body's own `sign` does not match.
    pub const NO: u8 = 1;
    /// Usage: an unknown flag, a missing value (clap's own code).
    pub const USAGE: u8 = 2;
    /// A local stream or file could not be read or written (standard input,
    /// `--save-authinfo`).
    pub const IO: u8 = 3;
    /// Standard output was closed before the command finished (`| head`): nothing more is
    /// printed. 128 + SIGPIPE, as a shell reports a program that a closed pipe stopped.
    pub const CLOSED: u8 = 141;

    /// A failure with the library's status: 10 + the C status code, so 11 is an invalid
    /// argument (a missing or bad setting, a missing key) in every command, 12 network,
    /// 13 timeout, 14 TLS, 15 HTTP status, 16 bad response, 17 bad signature, 18 WeChat refused.
    pub fn status(kind: ErrorKind) -> u8 {
        u8::try_from(10 + kind.code()).unwrap_or(NO)
    }

    /// [`status`] for an invalid argument.
    pub fn invalid() -> u8 {
        status(ErrorKind::InvalidArgument)
    }
}

const ROOT_HELP: &str = "\
Settings have one name everywhere: flag --mch-id, environment WXFACE_MCH_ID, config file
`mch_id = \"...\"` (flags win over the environment, which wins over the file). The API key is
read only from WXFACE_KEY or `key` in the config file, never from the command line, and is never
printed.

Exit codes, the same in every command: 0 success; 1 the answer is no (verify: invalid
signature; sign: the body's sign does not match); 2 usage; 3 cannot read standard input or
write --save-authinfo; 10 + the C status code for a failure (11 invalid argument, also a missing
or bad setting or key, 12 network, 13 timeout, 14 TLS, 15 HTTP status, 16 bad response, 17 bad
signature, 18 WeChat refused); 21-29 doctor's failed step; 141 standard output closed.

Examples:
  WXFACE_KEY=... wxface authinfo --mch-id 1900000109 --appid wx2421b1c4370ec43b \\
      --store-id 1001 --store-name 南山店 --device-id POS-01 --rawdata \"$RAWDATA\"
  wxface doctor --config /etc/wxface.toml
  printf 'appid=wx2421b1c4370ec43b\\nmch_id=1900000109\\n' | WXFACE_KEY=... wxface sign";

const AUTHINFO_HELP: &str = "\
Prints expires_in and the authinfo's length; the authinfo itself is a credential and goes only
to --save-authinfo FILE (created with mode 600). On failure prints the status, the message and
WeChat's return_code/return_msg.

Exit codes: 0 success, 11-18 the failure's status (see wxface --help), 3 cannot write
--save-authinfo.

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

Exit codes (the first failed step decides): 0 all passed, 11 configuration (invalid argument,
as in every command), 21 DNS, 22 TCP or proxy, 23 TLS, 24 clock, 25 wrong key or sign type,
26 ids do not belong together, 27 no face-pay permission (SYSTEMERROR), 28 other probe failure,
29 deadline ran out.

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
    /// The face SDK's rawdata, byte for byte
    #[arg(long, env = "WXFACE_RAWDATA", hide_env_values = true)]
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
    #[command(flatten)]
    key: KeyArgs,
    /// One JSON object on stdout
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let code = match run(&matches) {
        Ok(code) => code,
        // A closed pipe is not an error worth a word: the reader has what it wanted.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => exit::CLOSED,
        Err(e) => {
            errln!("cannot write standard output: {e}");
            exit::IO
        }
    };
    ExitCode::from(code)
}

/// Runs the command; the error is a failed write to standard output.
fn run(matches: &ArgMatches) -> io::Result<u8> {
    let cli = match Cli::from_arg_matches(matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let (_, sub) = matches.subcommand().expect("clap requires a subcommand");
    match cli.command {
        Command::Authinfo(a) => authinfo(&a, sub),
        Command::Doctor(a) => run_doctor(&a, sub),
        Command::Sign(a) => sign_or_verify(&a, sub, false),
        Command::Verify(a) => sign_or_verify(&a, sub, true),
    }
}

fn print_json(v: &impl serde::Serialize) -> io::Result<()> {
    match serde_json::to_string_pretty(v) {
        Ok(s) => outln!("{s}"),
        Err(e) => {
            errln!("cannot encode JSON: {e}");
            Ok(())
        }
    }
}

fn warn_all(s: &Settings) {
    for w in &s.warnings {
        errln!("{w}");
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

impl AuthinfoJson {
    fn failure(kind: wxface::ErrorKind, message: String) -> AuthinfoJson {
        AuthinfoJson {
            ok: false,
            expires_in: None,
            authinfo_bytes: None,
            saved_to: None,
            status: Some(kind.code()),
            status_name: Some(kind.name()),
            message: Some(message),
            return_code: None,
            return_msg: None,
        }
    }
}

fn authinfo(a: &AuthinfoArgs, matches: &ArgMatches) -> io::Result<u8> {
    let invalid = |msg: String| -> io::Result<u8> {
        if a.json {
            print_json(&AuthinfoJson::failure(
                wxface::ErrorKind::InvalidArgument,
                msg,
            ))?;
        } else {
            errln!("{msg}");
        }
        Ok(exit::invalid())
    };
    let s = match Settings::load(matches) {
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
                    errln!("cannot write {}: {e}", path.display());
                    return Ok(exit::IO);
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
                })?;
            } else {
                outln!("status: WXFACE_OK")?;
                outln!("expires_in: {}", info.expires_in)?;
                match saved {
                    Some(p) => outln!("authinfo: {} bytes, written to {p}", info.authinfo.len())?,
                    None => outln!(
                        "authinfo: {} bytes (not shown; --save-authinfo FILE writes it)",
                        info.authinfo.len()
                    )?,
                }
            }
            Ok(exit::OK)
        }
        Err(e) => {
            let kind = e.kind();
            let (rc, rm) = e
                .remote()
                .map(|(c, m)| (c.to_owned(), m.to_owned()))
                .unzip();
            if a.json {
                print_json(&AuthinfoJson {
                    return_code: rc,
                    return_msg: rm,
                    ..AuthinfoJson::failure(kind, e.to_string())
                })?;
            } else {
                outln!("status: {} ({})", kind.name(), kind.code())?;
                outln!("message: {e}")?;
                if let (Some(c), Some(m)) = (rc, rm) {
                    outln!("return_code: {c}")?;
                    outln!("return_msg: {m}")?;
                }
            }
            Ok(exit::status(kind))
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

fn run_doctor(a: &DoctorArgs, matches: &ArgMatches) -> io::Result<u8> {
    let s = match Settings::load(matches) {
        Ok(s) => s,
        Err(e) => {
            errln!("{e}");
            return Ok(exit::invalid());
        }
    };
    warn_all(&s);
    let budget = match s.timeout(Duration::from_secs(20)) {
        Ok(t) => t,
        Err(e) => {
            errln!("{e}");
            return Ok(exit::invalid());
        }
    };
    let report = doctor::run(&s, budget, !a.json)?;
    if a.json {
        print_json(&report)?;
    }
    Ok(report.exit_code)
}

fn sign_or_verify(a: &SignArgs, matches: &ArgMatches, verify: bool) -> io::Result<u8> {
    let fail = |msg: String| {
        errln!("{msg}");
        Ok(exit::invalid())
    };
    let s = match Settings::load(matches) {
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
        errln!("cannot read standard input: {e}");
        return Ok(exit::IO);
    }
    let fields = match signcmd::parse_body(&input) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    if verify {
        let out = signcmd::verify(&fields, &key);
        if a.json {
            print_json(&out)?;
        } else {
            outln!("signed string: {}", out.string_to_sign)?;
            if let Some(st) = out.sign_type {
                outln!("sign_type: {st} (from the signature's length)")?;
            }
            outln!(
                "{}: {}",
                if out.valid { "valid" } else { "INVALID" },
                out.message
            )?;
        }
        return Ok(if out.valid { exit::OK } else { exit::NO });
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
                print_json(&out)?;
            } else {
                outln!("sign_type: {}", out.sign_type)?;
                outln!("signed string: {}", out.string_to_sign)?;
                outln!("sign: {}", out.sign)?;
                match matches {
                    Some(true) => outln!("the body's sign matches")?,
                    Some(false) => outln!("the body's sign does NOT match")?,
                    None => {}
                }
            }
            Ok(if matches == Some(false) {
                exit::NO
            } else {
                exit::OK
            })
        }
        Err(e) => fail(e),
    }
}
