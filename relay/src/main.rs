//! `wxface-relay`: serve, check a configuration, or manage terminal tokens.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tokio::signal::unix::{SignalKind, signal};
use wxface_relay::{Relay, RelayConfig, listener, logging, tokens};

/// Merchant-side relay that holds the APIv2 key and serves authinfos to key-less terminals
/// (see docs/relay.md).
#[derive(Parser)]
#[command(name = "wxface-relay", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve until SIGTERM or SIGINT (the first drains, a second exits at once).
    Serve {
        /// The configuration file (TOML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Validate a configuration and print it without its secrets.
    Check {
        /// The configuration file (TOML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Issue or revoke terminal bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token for a device: printed once on standard output, only its hash is kept.
    Add {
        /// The device id (1 to 32 bytes, no spaces).
        device_id: String,
        #[command(flatten)]
        file: TokensFile,
    },
    /// Remove every token of a device.
    Revoke {
        /// The device id.
        device_id: String,
        #[command(flatten)]
        file: TokensFile,
    },
}

/// Where the token hashes are: `--tokens FILE`, or the `tokens_file` of `--config FILE`.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct TokensFile {
    /// The configuration whose `tokens_file` to use (only that key is read, never the keys).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The tokens file itself.
    #[arg(long, value_name = "FILE")]
    tokens: Option<PathBuf>,
}

impl TokensFile {
    /// The tokens file: `--tokens`, or `tokens_file` of `--config` (read without the keys).
    fn path(&self) -> Result<PathBuf, String> {
        if let Some(p) = &self.tokens {
            return Ok(p.clone());
        }
        let config = self.config.as_deref().unwrap_or(Path::new(""));
        let text = std::fs::read_to_string(config)
            .map_err(|e| format!("cannot read {}: {e}", config.display()))?;
        // Only this one field is read; everything else (keys included) is ignored.
        let p = toml::from_str::<toml::Table>(&text)
            .ok()
            .and_then(|t| {
                t.get("tokens_file")
                    .and_then(|v| v.as_str().map(PathBuf::from))
            })
            .ok_or_else(|| format!("{}: no tokens_file", config.display()))?;
        Ok(if p.is_absolute() {
            p
        } else {
            config.parent().unwrap_or(Path::new(".")).join(p)
        })
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Token(TokenCommand::Add { device_id, file }) => {
            let path = file.path()?;
            let token = tokens::add(&path, &device_id)?;
            eprintln!(
                "token for {device_id} (shown once; only its hash is kept in {}):",
                path.display()
            );
            println!("{}", token.as_str());
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { device_id, file }) => {
            let n = tokens::revoke(&file.path()?, &device_id)?;
            eprintln!("revoked {n} token(s) of {device_id}");
            if n == 0 {
                return Err(format!("no token for {device_id}"));
            }
            Ok(())
        }
        Command::Check { config } => {
            let config = RelayConfig::load(&config)?;
            eprintln!("configuration OK: {config:?}");
            Ok(())
        }
        Command::Serve { config } => serve(RelayConfig::load(&config)?),
    }
}

/// Serves until the first SIGTERM/SIGINT, then drains (a second signal exits at once with
/// 128 + its number).
fn serve(config: RelayConfig) -> Result<(), String> {
    logging::init(config.log_format, config.log_level);
    let open_files = listener::raise_open_file_limit();
    let grace = config.shutdown_grace;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        let relay = Relay::start(config).await?;
        let url = relay.base_url();
        tracing::info!(
            url,
            max_connections = relay.connection_cap(),
            open_files,
            "wxface-relay listening on {url}"
        );
        let first = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(
            signal = first,
            grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
            "draining: not accepting, /readyz 503, finishing requests in flight"
        );
        tokio::spawn(async move {
            let (name, code) = tokio::select! {
                _ = term.recv() => ("SIGTERM", 128 + libc::SIGTERM),
                _ = int.recv() => ("SIGINT", 128 + libc::SIGINT),
            };
            tracing::warn!(signal = name, "second signal: exiting now");
            std::process::exit(code);
        });
        let drained = relay.drain(grace).await;
        if drained.abandoned > 0 {
            tracing::warn!(
                abandoned = drained.abandoned,
                "grace period over: requests still in flight were cut off"
            );
        } else {
            tracing::info!("drained: every request in flight was answered");
        }
        Ok::<(), String>(())
    })?;
    // An upstream call still blocked in the library is not waited for.
    rt.shutdown_timeout(Duration::from_millis(100));
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wxface-relay: {e}");
            ExitCode::FAILURE
        }
    }
}
