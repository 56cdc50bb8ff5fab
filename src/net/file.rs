//! Reading the files a caller names (CA files and trust-store paths; the CLI's config file): only
//! regular files, or directories of them, of at most [`MAX_FILE_BYTES`], in bounded time. Every
//! such read in the library and the CLI goes through [`read`] or [`read_file_or_dir`].
//!
//! A path is opened without blocking (`O_NONBLOCK`: opening a FIFO does not wait for a writer;
//! `O_NOCTTY`: a terminal does not become the process's controlling terminal), then the opened
//! file itself is checked (`fstat`: what was checked is what is read), then at most its size
//! plus one byte is read (a file that grows meanwhile is read up to the cap plus one byte, and
//! refused beyond the cap). Anything else (a FIFO, a device such as `/dev/zero`, a socket, a
//! file over the cap) is refused with [`Error::InvalidArgument`] naming the caller's field and
//! the path, before anything is read from it.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The most bytes a file named by the caller may hold (4 MiB); for a directory, all its files
/// together. A CA bundle holds a few hundred KB (Debian's 220 KB), Android's system CA
/// directory about 1 MB.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The bytes of the regular file at `path` (at most [`MAX_FILE_BYTES`]), wiped when dropped: some
/// of these files hold keys.
pub fn read(field: &'static str, path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let file = open(path).map_err(|e| unreadable(field, path, e))?;
    let size = regular_size(field, path, &file)?;
    read_opened(field, path, file, size, MAX_FILE_BYTES)?.ok_or_else(|| too_large(field, path))
}

/// The bytes of each file at `path`: the regular file itself, or, for a directory, each regular
/// file in it in name order (as Android lays out its CA stores). Subdirectories are not entered;
/// an entry that cannot be opened (vanished, no permission) is skipped; any other entry (a FIFO,
/// a device, a socket) is refused. All the files together hold at most [`MAX_FILE_BYTES`].
pub(crate) fn read_file_or_dir(
    field: &'static str,
    path: &Path,
) -> Result<Vec<Zeroizing<Vec<u8>>>> {
    let file = open(path).map_err(|e| unreadable(field, path, e))?;
    let meta = file.metadata().map_err(|e| unreadable(field, path, e))?;
    if !meta.is_dir() {
        let size = regular_size(field, path, &file)?;
        let bytes = read_opened(field, path, file, size, MAX_FILE_BYTES)?;
        return Ok(vec![bytes.ok_or_else(|| too_large(field, path))?]);
    }
    drop(file);
    let mut names: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| unreadable(field, path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    let mut files = Vec::new();
    let mut left = MAX_FILE_BYTES;
    for name in names {
        let Ok(file) = open(&name) else { continue };
        match file.metadata() {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => {}
            Err(_) => continue,
        }
        let size = regular_size(field, &name, &file)?;
        let bytes = read_opened(field, &name, file, size, left)?
            .ok_or_else(|| too_large_dir(field, path))?;
        left -= bytes.len() as u64;
        files.push(bytes);
    }
    Ok(files)
}

/// Opens `path` for reading without blocking on a FIFO and without acquiring a terminal.
fn open(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options.open(path)
}

/// The size of the opened `file` if it is a regular file of at most [`MAX_FILE_BYTES`].
fn regular_size(field: &'static str, path: &Path, file: &File) -> Result<u64> {
    let meta = file.metadata().map_err(|e| unreadable(field, path, e))?;
    if !meta.is_file() {
        return Err(Error::invalid(
            field,
            format!(
                "{} is not a regular file (it is {})",
                path.display(),
                kind(&meta.file_type())
            ),
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(field, path));
    }
    Ok(meta.len())
}

/// Reads the opened regular `file`, which said it holds `size` bytes: `None` if it holds more
/// than `cap` (at most [`MAX_FILE_BYTES`]), of which at most one byte more is read. The buffer
/// is allocated once for `size` (and once more, up to `cap`, only if the file grew since), and
/// a replaced one is wiped, so no partial copy of the content is left in freed memory.
fn read_opened(
    field: &'static str,
    path: &Path,
    mut file: File,
    size: u64,
    cap: u64,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let failed = |e| unreadable(field, path, e);
    let cap = cap.min(MAX_FILE_BYTES);
    // Both at most MAX_FILE_BYTES + 1, which fits in a usize.
    let first = usize::try_from(size.min(cap) + 1).unwrap_or(usize::MAX);
    let most = usize::try_from(cap + 1).unwrap_or(usize::MAX);
    let mut buf = Zeroizing::new(vec![0u8; first]);
    let mut filled = fill(&mut file, &mut buf).map_err(failed)?;
    if filled == buf.len() && buf.len() < most {
        // Larger than it said (growing, or a file whose size the kernel does not report).
        let mut bigger = Zeroizing::new(vec![0u8; most]);
        bigger[..filled].copy_from_slice(&buf[..filled]);
        buf = bigger;
        filled += fill(&mut file, &mut buf[filled..]).map_err(failed)?;
    }
    if filled as u64 > cap {
        return Ok(None);
    }
    buf.truncate(filled);
    Ok(Some(buf))
}

/// Reads until `buf` is full or the end of the file; the bytes read.
fn fill(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        return "a directory";
    }
    "something else"
}

fn unreadable(field: &'static str, path: &Path, e: io::Error) -> Error {
    Error::invalid(field, format!("cannot read {}: {e}", path.display()))
}

fn too_large(field: &'static str, path: &Path) -> Error {
    Error::invalid(
        field,
        format!(
            "{} is larger than {MAX_FILE_BYTES} bytes (the most read from a file)",
            path.display()
        ),
    )
}

fn too_large_dir(field: &'static str, path: &Path) -> Error {
    Error::invalid(
        field,
        format!(
            "the files in {} hold more than {MAX_FILE_BYTES} bytes together (the most read from a directory)",
            path.display()
        ),
    )
}
