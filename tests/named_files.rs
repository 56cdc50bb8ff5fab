//! Files the caller names (`ca_file`, `system_ca_path`, `user_ca_path`) are read safely: only
//! regular files, or directories of them, of at most `MAX_FILE_BYTES`, in bounded time; anything
//! else is refused when the client is made, naming the field. tests/c/test_ffi.c checks the same
//! through the C ABI, cli/tests/commands.rs through the CLI.
//!
//! A FIFO is tried twice: without a writer (a library that waited for one would hang: bounded
//! by a generous timeout that fails the test), and fed by a thread that writes a valid CA into
//! it once a reader opens it (a library that read it would accept it).

mod field_support;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use field_support::*;
use wxface::file::MAX_FILE_BYTES;
use wxface::{Client, ConfigBuilder, Error, TrustStore};
use wxface_mock::TestCa;

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(st.success(), "mkfifo {}", path.display());
}

/// A file holding `pem` and then a hole up to `len` bytes (sparse: it takes no disk space).
fn sparse(path: &Path, pem: &str, len: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(pem.as_bytes()).unwrap();
    f.set_len(len).unwrap();
}

/// How a path is given to the library.
#[derive(Clone, Copy, Debug)]
enum Field {
    CaFile,
    SystemCaPath,
    UserCaPath,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::CaFile => "ca_file",
            Field::SystemCaPath => "system_ca_path",
            Field::UserCaPath => "user_ca_path",
        }
    }

    fn set(self, b: ConfigBuilder, path: &Path) -> ConfigBuilder {
        match self {
            Field::CaFile => b.ca_file(path),
            Field::SystemCaPath => b.trust_store(TrustStore::System).system_ca_path(path),
            Field::UserCaPath => b.user_ca_path(path),
        }
    }
}

/// Makes a client with `path` as `field`, while a thread feeds `pem` to `fifo` (if any) once a
/// reader opens it; the thread is released and joined afterwards.
fn client_with(field: Field, path: &Path, fifo: Option<(&Path, &str)>) -> wxface::Result<Client> {
    let config = field
        .set(builder_for("https://127.0.0.1:1"), path)
        .build()
        .expect("validating reads no file");
    let Some((fifo, pem)) = fifo else {
        return Client::new(config);
    };
    std::thread::scope(|s| {
        let feeder = s.spawn(|| {
            // Blocks until a reader opens the FIFO: the library if it reads it, else us below.
            let mut w = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            let _ = w.write_all(pem.as_bytes()); // EPIPE once the reader is gone
        });
        let result = Client::new(config);
        // Releases the feeder if the library did not open the FIFO (or opened and closed it).
        let release = open_nonblocking(fifo).unwrap();
        feeder.join().unwrap();
        drop(release);
        result
    })
}

/// Opens `path` for reading without waiting for a writer.
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

/// Makes a client with the FIFO `fifo` (no writer) as `field`: the library must not wait for a
/// writer. Only a bound against a hang: a correct library answers at once.
fn client_with_idle_fifo(field: Field, fifo: &Path) -> wxface::Result<Client> {
    const HANG: std::time::Duration = std::time::Duration::from_secs(30);
    let config = field
        .set(builder_for("https://127.0.0.1:1"), fifo)
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(move || tx.send(Client::new(config)).unwrap());
        let got = rx.recv_timeout(HANG);
        if got.is_err() {
            // Unblocks the library's open (it has the FIFO open for reading now) before failing.
            let _ = std::fs::OpenOptions::new().write(true).open(fifo);
            panic!("{field:?}: making the client blocked on a FIFO without a writer");
        }
        got.unwrap()
    })
}

fn refused(result: wxface::Result<Client>, field: Field, reason: &str) {
    match result {
        Err(Error::InvalidArgument {
            field: f,
            reason: r,
        }) => {
            assert_eq!(f, field.name(), "{r}");
            assert!(
                r.contains(reason),
                "{field:?}: {r:?} does not say {reason:?}"
            );
        }
        other => panic!("{field:?}: not refused as an invalid argument: {other:?}"),
    }
}

#[test]
fn the_cap_in_the_header_is_the_library_s() {
    assert_eq!(wxface::ffi::WXFACE_MAX_FILE_BYTES, MAX_FILE_BYTES);
}

#[test]
fn only_regular_files_up_to_the_cap_are_read_for_every_field() {
    let pem = TestCa::new().unwrap().ca_pem();
    let dir = TempDir::new("named-kinds");
    let fifo = dir.0.join("ca.fifo");
    mkfifo(&fifo);
    let too_large = dir.0.join("too-large.pem");
    sparse(&too_large, &pem, MAX_FILE_BYTES + 1);
    let at_cap = dir.0.join("at-cap.pem");
    sparse(&at_cap, &pem, MAX_FILE_BYTES);
    for field in [Field::CaFile, Field::SystemCaPath, Field::UserCaPath] {
        let dev_zero = Path::new("/dev/zero");
        refused(
            client_with(field, dev_zero, None),
            field,
            "is not a regular file (it is a character device)",
        );
        refused(
            client_with_idle_fifo(field, &fifo),
            field,
            "is not a regular file (it is a FIFO)",
        );
        refused(
            client_with(field, &fifo, Some((&fifo, &pem))),
            field,
            "is not a regular file (it is a FIFO)",
        );
        refused(
            client_with(field, &too_large, None),
            field,
            &format!("is larger than {MAX_FILE_BYTES} bytes"),
        );
        client_with(field, &at_cap, None).expect("a file of exactly the cap is read");
    }
    // ca_file names one file: a directory is refused.
    refused(
        client_with(Field::CaFile, &dir.0, None),
        Field::CaFile,
        "is not a regular file (it is a directory)",
    );
}

#[test]
fn a_store_directory_holds_regular_files_only_and_the_cap_in_all() {
    let pem = TestCa::new().unwrap().ca_pem();
    for field in [Field::SystemCaPath, Field::UserCaPath] {
        let store = TempDir::new("named-store");
        std::fs::write(store.0.join("5ed36f99.0"), &pem).unwrap();
        // A subdirectory is not entered (Debian's /etc/ssl/certs has java/).
        std::fs::create_dir(store.0.join("java")).unwrap();
        std::fs::write(store.0.join("java").join("cacerts"), b"not PEM").unwrap();
        client_with(field, &store.0, None).expect("a directory of regular files");

        let fifo = store.0.join("zz.fifo");
        mkfifo(&fifo);
        refused(
            client_with(field, &store.0, Some((&fifo, &pem))),
            field,
            "zz.fifo is not a regular file (it is a FIFO)",
        );
        std::fs::remove_file(&fifo).unwrap();

        // Two files under the cap each, over it together.
        sparse(&store.0.join("a.pem"), &pem, MAX_FILE_BYTES / 2 + 1);
        sparse(&store.0.join("b.pem"), &pem, MAX_FILE_BYTES / 2 + 1);
        refused(
            client_with(field, &store.0, None),
            field,
            &format!("hold more than {MAX_FILE_BYTES} bytes together"),
        );
    }
}
