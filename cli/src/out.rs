//! Standard output and standard error for every command. A write to standard output returns its
//! error, so a closed pipe (`wxface doctor | head -2`) travels up to `main`'s one exit path,
//! which ends the program quietly; messages to standard error are best effort.

use std::fmt;
use std::io::{self, Write};

/// Writes to standard output and flushes (so progress shows as it happens).
pub fn write(args: fmt::Arguments<'_>) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_fmt(args)?;
    out.flush()
}

/// Writes one line to standard error; a closed standard error is ignored.
pub fn error(args: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{args}");
}

/// `println!` that returns an `io::Result` instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that returns an `io::Result` instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*))
    };
}

/// `eprintln!` prefixed with `wxface: ` that never panics.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::out::error(format_args!("wxface: {}", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};
