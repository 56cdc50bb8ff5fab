//! Real proxy servers for tests: tinyproxy (HTTP CONNECT) and microsocks (SOCKS5) from Debian
//! (`.ci/packages.txt`), started on free loopback ports. A missing binary fails the test with
//! instructions; it never skips.

use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::refused_port;

/// A proxy process owned by the test; killed (by its own pid) and reaped on drop.
pub struct ProxyProcess {
    child: Child,
    pub port: u16,
    dir: PathBuf,
    log: PathBuf,
}

impl ProxyProcess {
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Everything the proxy logged so far.
    pub fn log(&self) -> String {
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

/// Starts a proxy on a port picked just before; another process on the machine may take that
/// port first, so a start that fails is retried on a fresh port (a few times).
fn spawn_on_free_port(name: &str, make: impl Fn(u16, &PathBuf) -> Vec<String>) -> ProxyProcess {
    let mut last = String::new();
    for _ in 0..5 {
        let dir = temp_dir(name);
        let port = refused_port();
        let args = make(port, &dir);
        match spawn(name, &args, dir, port) {
            Ok(p) => return p,
            Err(e) => last = e,
        }
    }
    panic!("{last}");
}

fn spawn(name: &str, args: &[String], dir: PathBuf, port: u16) -> Result<ProxyProcess, String> {
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
            return Err(format!("{name} exited with {status}: {}", proxy.log()));
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{name} does not listen on {port}: {}",
            proxy.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(proxy)
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
pub fn tinyproxy(auth: Option<(&str, &str)>) -> ProxyProcess {
    spawn_on_free_port("tinyproxy", |port, dir| {
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n\
             LogLevel Info\nUser nobody\nGroup nogroup\n"
        );
        if let Some((user, pass)) = auth {
            conf.push_str(&format!("BasicAuth {user} {pass}\n"));
        }
        let path = dir.join("tinyproxy.conf");
        std::fs::write(&path, conf).unwrap();
        vec!["-d".into(), "-c".into(), path.display().to_string()]
    })
}

/// microsocks (SOCKS5) on a free loopback port, optionally requiring user/password auth.
pub fn microsocks(auth: Option<(&str, &str)>) -> ProxyProcess {
    spawn_on_free_port("microsocks", |port, _dir| {
        let mut args: Vec<String> = vec![
            "-i".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
        ];
        if let Some((user, pass)) = auth {
            args.extend(["-u".into(), user.into(), "-P".into(), pass.into()]);
        }
        args
    })
}
