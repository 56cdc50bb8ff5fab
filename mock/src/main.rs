//! `wxface-mock`: run the mock WeChat authinfo endpoint as a process (C tests, `make demo`).

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use wxface_mock::{MockConfig, MockServer, Scenario, TestCa};

const USAGE: &str = "\
usage: wxface-mock [options]
  --bind ADDR             loopback address to listen on (default 127.0.0.1:0)
  --key KEY               APIv2 key (default: the built-in 32-byte mock key)
  --scenario NAME         default scenario (default normal)
  --fail-first N          answer the first N requests with --fail-with (default 0)
  --fail-with NAME        scenario for those requests (default http-500)
  --delay-ms N            sleep before every answer (default 0)
  --clock-offset-secs N   shift the mock's clock (default 0)
  --expires-in SECS       expires_in of SUCCESS answers (default 3600)
  --tls-dir DIR           serve HTTPS with a fresh test CA; writes DIR/ca.pem to trust
  --tls-foreign-ca        with --tls-dir: present a certificate from another CA (named
                          \"wxface-mock middlebox CA\") than the one in DIR/ca.pem, like a
                          TLS-intercepting proxy
  --expect-id NAME=VALUE  normal scenario: answer ERROR 请检查mchid,... unless the request's
                          NAME (appid, mch_id, sub_appid, sub_mch_id) is VALUE (repeatable)
  --rawdata-prefix P      normal scenario: answer ERROR 无效的RawData数据 to rawdata not
                          starting with P (default: any rawdata is accepted)
  --port-file PATH        write the bound port there (atomically) once listening
  --exit-on-stdin-eof     stop when standard input reaches end of file
  --help                  show this help
A request whose rawdata is MOCK:<scenario> gets that scenario. Scenarios:";

struct Options {
    bind: String,
    port_file: Option<String>,
    tls_dir: Option<String>,
    tls_foreign_ca: bool,
    exit_on_stdin_eof: bool,
    config: MockConfig,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut opts = Options {
        bind: "127.0.0.1:0".into(),
        port_file: None,
        tls_dir: None,
        tls_foreign_ca: false,
        exit_on_stdin_eof: false,
        config: MockConfig::default(),
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{name}: bad number {v:?}"))
        };
        match name.as_str() {
            "--help" | "-h" => return Ok(None),
            "--bind" => opts.bind = value()?,
            "--key" => opts.config.key = value()?,
            "--scenario" => opts.config.scenario = value()?.parse().map_err(|e| format!("{e}"))?,
            "--fail-with" => {
                opts.config.fail_with = value()?.parse().map_err(|e| format!("{e}"))?
            }
            "--fail-first" => {
                opts.config.fail_first = usize::try_from(number(value()?)?).unwrap_or(usize::MAX);
            }
            "--delay-ms" => opts.config.delay = Duration::from_millis(number(value()?)?),
            "--clock-offset-secs" => {
                let v = value()?;
                opts.config.clock_offset_secs =
                    v.parse().map_err(|_| format!("{name}: bad number {v:?}"))?;
            }
            "--port-file" => opts.port_file = Some(value()?),
            "--tls-dir" => opts.tls_dir = Some(value()?),
            "--expires-in" => {
                let v = value()?;
                opts.config.expires_in = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("{name}: bad number {v:?}"))?;
            }
            "--tls-foreign-ca" => opts.tls_foreign_ca = true,
            "--expect-id" => {
                let v = value()?;
                let (k, val) = v
                    .split_once('=')
                    .filter(|(k, _)| matches!(*k, "appid" | "mch_id" | "sub_appid" | "sub_mch_id"))
                    .ok_or_else(|| {
                        format!(
                            "{name}: expected appid|mch_id|sub_appid|sub_mch_id=VALUE, got {v:?}"
                        )
                    })?;
                opts.config.expect_ids.push((k.to_owned(), val.to_owned()));
            }
            "--rawdata-prefix" => opts.config.rawdata_prefix = Some(value()?),
            "--exit-on-stdin-eof" => opts.exit_on_stdin_eof = true,
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    Ok(Some(opts))
}

/// Writes `port` to `path` through a temporary file and a rename, so readers never see a
/// partial file.
fn write_port_file(path: &str, port: u16) -> io::Result<()> {
    let tmp = format!("{path}.tmp{}", std::process::id());
    std::fs::write(&tmp, format!("{port}\n"))?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

fn run() -> Result<(), String> {
    let Some(opts) = parse_args(std::env::args().skip(1))? else {
        let names: Vec<&str> = Scenario::ALL.iter().map(Scenario::name).collect();
        println!("{USAGE}\n  {}", names.join(" "));
        return Ok(());
    };
    let mut config = opts.config;
    if let Some(dir) = &opts.tls_dir {
        let ca = TestCa::new().map_err(|e| format!("cannot make a test CA: {e}"))?;
        let foreign = if opts.tls_foreign_ca {
            Some(
                TestCa::named("wxface-mock middlebox CA")
                    .map_err(|e| format!("cannot make a test CA: {e}"))?,
            )
        } else {
            None
        };
        config.tls = Some(
            foreign
                .as_ref()
                .unwrap_or(&ca)
                .server_identity(&["localhost", "127.0.0.1", "::1"])
                .map_err(|e| format!("cannot make a certificate: {e}"))?,
        );
        let path = std::path::Path::new(dir).join("ca.pem");
        std::fs::write(&path, ca.ca_pem())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let server = MockServer::start_on_logged(&opts.bind, config)
        .map_err(|e| format!("cannot listen on {}: {e}", opts.bind))?;
    if let Some(path) = &opts.port_file {
        write_port_file(path, server.addr().port())
            .map_err(|e| format!("cannot write port file {path}: {e}"))?;
    }
    let mut out = io::stdout().lock();
    writeln!(out, "wxface-mock listening on {}", server.base_url())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(out);
    if opts.exit_on_stdin_eof {
        let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
        server.stop();
        return Ok(());
    }
    loop {
        std::thread::park();
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("wxface-mock: {msg}");
            ExitCode::from(2)
        }
    }
}
