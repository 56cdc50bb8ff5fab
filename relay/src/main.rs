//! `wxface-relay`: serve, or manage terminal tokens.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wxface_relay::{Relay, RelayConfig, tokens};

const USAGE: &str = "usage:
  wxface-relay serve --config FILE
  wxface-relay token add <device_id> (--config FILE | --tokens FILE)
  wxface-relay token revoke <device_id> (--config FILE | --tokens FILE)
  wxface-relay check --config FILE";

fn flag(args: &[String], name: &str) -> Option<PathBuf> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
}

/// The tokens file: `--tokens`, or `tokens_file` of `--config` (read without the keys).
fn tokens_path(args: &[String]) -> Result<PathBuf, String> {
    if let Some(p) = flag(args, "--tokens") {
        return Ok(p);
    }
    let config = flag(args, "--config").ok_or(USAGE)?;
    let text = std::fs::read_to_string(&config)
        .map_err(|e| format!("cannot read {}: {e}", config.display()))?;
    #[derive(serde::Deserialize)]
    struct Only {
        tokens_file: Option<PathBuf>,
    }
    // Only this one field is read; everything else (keys included) is ignored.
    let only: Only = toml::from_str::<toml::Table>(&text)
        .ok()
        .and_then(|t| t.get("tokens_file").cloned())
        .map(|v| Only {
            tokens_file: v.as_str().map(PathBuf::from),
        })
        .unwrap_or(Only { tokens_file: None });
    let p = only
        .tokens_file
        .ok_or_else(|| format!("{}: no tokens_file", config.display()))?;
    Ok(if p.is_absolute() {
        p
    } else {
        config.parent().unwrap_or(Path::new(".")).join(p)
    })
}

fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("token") => {
            let device = args.get(2).ok_or(USAGE)?;
            let path = tokens_path(args)?;
            match args.get(1).map(String::as_str) {
                Some("add") => {
                    let token = tokens::add(&path, device)?;
                    eprintln!(
                        "token for {device} (shown once; only its hash is kept in {}):",
                        path.display()
                    );
                    println!("{}", token.as_str());
                    Ok(())
                }
                Some("revoke") => {
                    let n = tokens::revoke(&path, device)?;
                    eprintln!("revoked {n} token(s) of {device}");
                    if n == 0 {
                        return Err(format!("no token for {device}"));
                    }
                    Ok(())
                }
                _ => Err(USAGE.into()),
            }
        }
        Some("check") => {
            let config = RelayConfig::load(&flag(args, "--config").ok_or(USAGE)?)?;
            eprintln!("configuration OK: {config:?}");
            Ok(())
        }
        Some("serve") => {
            let config = RelayConfig::load(&flag(args, "--config").ok_or(USAGE)?)?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let relay = Relay::start(config).await?;
                eprintln!("wxface-relay listening on {}", relay.base_url());
                let stop = relay.stopper();
                tokio::spawn(async move {
                    let mut term =
                        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                            .ok();
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
                    }
                    let _ = stop.send(true);
                });
                relay.wait().await;
                Ok::<(), String>(())
            })
        }
        _ => Err(USAGE.into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wxface-relay: {e}");
            ExitCode::FAILURE
        }
    }
}
