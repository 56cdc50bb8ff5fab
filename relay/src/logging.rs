//! The process log: `tracing` events on standard error, as text or as one JSON object per line
//! (`log_format`), each carrying the `request_id` of the request it belongs to. The `wxface`
//! library's log callback feeds the same log (target `wxface`), so its lines about an upstream
//! call carry the request id too. Nothing logged holds a key, a token, a rawdata or an authinfo:
//! the relay logs none, and the library's lines never contain them.

use std::sync::Arc;

use tracing::level_filters::LevelFilter;

use crate::config::{LogFormat, LogLevel};

/// Installs the process-wide subscriber (once, at start).
pub fn init(format: LogFormat, level: LogLevel) {
    let level = match level {
        LogLevel::Error => LevelFilter::ERROR,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Debug => LevelFilter::DEBUG,
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// The library's log callback: each line becomes an event of target `wxface`, inside the span
/// of the request that caused it.
pub fn library_logger() -> wxface::LogFn {
    Arc::new(|level: wxface::Level, msg: &str| match level {
        wxface::Level::Error => tracing::error!(target: "wxface", "{msg}"),
        wxface::Level::Warn => tracing::warn!(target: "wxface", "{msg}"),
        wxface::Level::Info => tracing::info!(target: "wxface", "{msg}"),
        wxface::Level::Debug => tracing::debug!(target: "wxface", "{msg}"),
    })
}
