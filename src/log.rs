//! The log callback: levels, and the sink a [`Config`](crate::Config) carries.
//!
//! Lines name causes, hosts, attempts and durations. They never contain the API key, the
//! authinfo or the rawdata: every message is built from [`Error`](crate::Error) displays (which
//! carry none of them) and from values this module's callers choose.

use std::fmt;
use std::sync::Arc;

/// Severity of a log line. The numeric values are stable (for the C ABI and Java).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
pub enum Level {
    /// A call failed.
    Error = 1,
    /// Something degraded: a retry, a failover, a stale authinfo served, a corrected clock.
    Warn = 2,
    /// One line per call outcome and per cache refresh.
    Info = 3,
    /// Each attempt, each cache hit.
    Debug = 4,
}

impl Level {
    /// The stable numeric value (1 = error … 4 = debug).
    pub fn as_u32(self) -> u32 {
        self as u32
    }

    /// The level for a numeric value, `None` outside 1..=4.
    pub fn from_u32(v: u32) -> Option<Level> {
        match v {
            1 => Some(Level::Error),
            2 => Some(Level::Warn),
            3 => Some(Level::Info),
            4 => Some(Level::Debug),
            _ => None,
        }
    }

    /// Upper-case name, e.g. `"WARN"`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A log callback. It is called synchronously on the thread making the call, so it must be
/// quick and must not call back into the same client.
pub type LogFn = Arc<dyn Fn(Level, &str) + Send + Sync>;

/// The configured callback and the most verbose level it wants.
#[derive(Clone, Default)]
pub(crate) struct Logger {
    sink: Option<LogFn>,
    max_level: Option<Level>,
}

impl Logger {
    pub(crate) fn new(sink: Option<LogFn>, max_level: Level) -> Logger {
        Logger {
            sink,
            max_level: Some(max_level),
        }
    }

    pub(crate) fn enabled(&self, level: Level) -> bool {
        self.sink.is_some() && level <= self.max_level.unwrap_or(Level::Info)
    }

    /// Formats and emits a line if `level` is enabled. Panics in the callback are the
    /// caller's; they propagate like any panic in user code.
    pub(crate) fn log(&self, level: Level, args: fmt::Arguments<'_>) {
        if let (true, Some(sink)) = (self.enabled(level), &self.sink) {
            let line = args.to_string();
            sink(level, &line);
        }
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("callback", &self.sink.as_ref().map(|_| "<fn>"))
            .field("max_level", &self.max_level)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn filters_by_level() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let logger = Logger::new(
            Some(Arc::new(move |l, m: &str| {
                sink.lock().unwrap().push(format!("{l} {m}"))
            })),
            Level::Warn,
        );
        logger.log(Level::Error, format_args!("a{}", 1));
        logger.log(Level::Warn, format_args!("b"));
        logger.log(Level::Info, format_args!("c"));
        assert_eq!(*lines.lock().unwrap(), ["ERROR a1", "WARN b"]);
        assert!(!Logger::default().enabled(Level::Error));
        for v in 1..=4 {
            assert_eq!(Level::from_u32(v).unwrap().as_u32(), v);
        }
        assert_eq!(Level::from_u32(0), None);
    }
}
