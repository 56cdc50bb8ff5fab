//! HTTP CONNECT (tinyproxy) and SOCKS5 (microsocks) proxies, real servers started on loopback
//! by the tests. The binaries come from Debian (`.ci/packages.txt`); a missing one fails the
//! test with instructions, it never skips.

mod field_support;

use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use field_support::*;
use wxface::{Error, ErrorKind};
use wxface_mock::MockConfig;

/// A proxy process owned by the test; killed (by its own pid) and reaped on drop.
struct ProxyProcess {
    child: Child,
    port: u16,
    dir: PathBuf,
    log: PathBuf,
}

impl ProxyProcess {
    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Everything the proxy logged so far.
    fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn find_binary(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"] {
        let p = PathBuf::from(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "{name} is not installed: this test needs a real proxy server. Install it with \
         `apt-get install -y {name}` (listed in .ci/packages.txt, installed by .ci/run)"
    );
}

fn spawn(name: &str, args: &[String], dir: PathBuf, port: u16) -> ProxyProcess {
    let log = dir.join("proxy.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(find_binary(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let mut proxy = ProxyProcess {
        child,
        port,
        dir,
        log,
    };
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = proxy.child.try_wait() {
            panic!("{name} exited with {status}: {}", proxy.log());
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{name} does not listen on {port}: {}",
            proxy.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    proxy
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wxface-field-{tag}-{}-{}",
        std::process::id(),
        refused_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// tinyproxy on a free loopback port, optionally requiring basic auth.
fn tinyproxy(auth: Option<(&str, &str)>) -> ProxyProcess {
    let dir = temp_dir("tinyproxy");
    let port = refused_port();
    let mut conf = format!(
        "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n\
         LogLevel Info\nUser nobody\nGroup nogroup\n"
    );
    if let Some((user, pass)) = auth {
        conf.push_str(&format!("BasicAuth {user} {pass}\n"));
    }
    let path = dir.join("tinyproxy.conf");
    std::fs::write(&path, conf).unwrap();
    spawn(
        "tinyproxy",
        &["-d".into(), "-c".into(), path.display().to_string()],
        dir,
        port,
    )
}

/// microsocks (SOCKS5) on a free loopback port, optionally requiring user/password auth.
fn microsocks(auth: Option<(&str, &str)>) -> ProxyProcess {
    let dir = temp_dir("microsocks");
    let port = refused_port();
    let mut args: Vec<String> = vec![
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
    ];
    if let Some((user, pass)) = auth {
        args.extend(["-u".into(), user.into(), "-P".into(), pass.into()]);
    }
    spawn("microsocks", &args, dir, port)
}

#[test]
fn http_connect_proxy() {
    let server = start(MockConfig::default());
    let proxy = tinyproxy(None);
    let client = client_of(builder(&server).cache(false).proxy(proxy.url("http")));
    assert!(client.config().has_proxy());
    client
        .get_authinfo(&request(RAWDATA))
        .expect("through tinyproxy");
    let log = proxy.log();
    assert!(
        log.contains("CONNECT") && log.contains(&server.addr().port().to_string()),
        "the request went through the proxy: {log}"
    );
}

#[test]
fn http_connect_proxy_with_basic_auth() {
    let server = start(MockConfig::default());
    let proxy = tinyproxy(Some(("terminal", "s3cret-pw")));
    // Credentials in the URL…
    let url = format!("http://terminal:s3cret-pw@127.0.0.1:{}", proxy.port);
    client_of(builder(&server).cache(false).proxy(url))
        .get_authinfo(&request(RAWDATA))
        .expect("through tinyproxy with basic auth (URL)");
    // … or given separately.
    client_of(
        builder(&server)
            .cache(false)
            .proxy(proxy.url("http"))
            .proxy_credentials("terminal", "s3cret-pw"),
    )
    .get_authinfo(&request(RAWDATA))
    .expect("through tinyproxy with basic auth (credentials)");
    assert_eq!(server.request_count(), 2);
    // Without or with wrong credentials the proxy refuses, and no request reaches the server.
    for b in [
        builder(&server).proxy(proxy.url("http")),
        builder(&server)
            .proxy(proxy.url("http"))
            .proxy_credentials("terminal", "wrong"),
    ] {
        let err = client_of(b.cache(false).max_retries(0))
            .get_authinfo(&request(RAWDATA))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
    assert_eq!(server.request_count(), 2);
}

#[test]
fn socks5_proxy() {
    let server = start(MockConfig::default());
    let proxy = microsocks(None);
    client_of(builder(&server).cache(false).proxy(proxy.url("socks5")))
        .get_authinfo(&request(RAWDATA))
        .expect("through microsocks");
    assert_eq!(server.request_count(), 1);
    // Proof that the traffic went through the proxy: stop it, and the same client fails.
    drop(proxy);
    let client = client_of(
        builder(&server)
            .cache(false)
            .max_retries(0)
            .proxy(format!("socks5://127.0.0.1:{}", refused_port())),
    );
    let err = client.get_authinfo(&request(RAWDATA)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
    assert_eq!(server.request_count(), 1);
}

#[test]
fn socks5_proxy_with_auth() {
    let server = start(MockConfig::default());
    let proxy = microsocks(Some(("terminal", "s3cret-pw")));
    client_of(
        builder(&server)
            .cache(false)
            .proxy(proxy.url("socks5"))
            .proxy_credentials("terminal", "s3cret-pw"),
    )
    .get_authinfo(&request(RAWDATA))
    .expect("through microsocks with user/password");
    let err = client_of(
        builder(&server)
            .cache(false)
            .max_retries(0)
            .proxy(proxy.url("socks5"))
            .proxy_credentials("terminal", "wrong"),
    )
    .get_authinfo(&request(RAWDATA))
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
    assert_eq!(server.request_count(), 1);
}

#[test]
fn proxy_settings_are_validated_and_never_echoed() {
    let b = || builder_for("https://127.0.0.1:1");
    for bad in [
        "127.0.0.1:3128",
        "https://127.0.0.1:3128",
        "ftp://p:1",
        "socks4://p:1",
    ] {
        let err = b().proxy(bad).build().unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { field: "proxy", .. }),
            "{bad}: {err:?}"
        );
    }
    let err = b().proxy_credentials("u", "secret-pw").build().unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { field: "proxy", .. }));
    let config = b()
        .proxy("http://user:secret-pw@127.0.0.1:3128")
        .build()
        .unwrap();
    assert!(config.has_proxy());
    assert!(!format!("{config:?}").contains("secret-pw"));
    let builder = b()
        .proxy("socks5://127.0.0.1:1080")
        .proxy_credentials("u", "secret-pw");
    assert!(!format!("{builder:?}").contains("secret-pw"));
    assert!(!b().proxy("").build().unwrap().has_proxy());
}
