//! Test harness: the mock payapp server, redis-server, certificates, relays on their own
//! runtime, and a small blocking HTTP client.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use serde_json::Value;
use wxface_relay::{Relay, RelayConfig};

pub const KEY: &str = wxface_mock::DEFAULT_KEY;

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let name = format!(
            "wxface-relay-{tag}-{}-{}",
            std::process::id(),
            u64::from_le_bytes(bytes)
        );
        let p = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A redis-server child process on a loopback port, without persistence.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        Self::start_on(free_port())
    }

    /// Starts redis-server on `port` and returns once it logged that it accepts connections.
    pub fn start_on(port: u16) -> RedisServer {
        Self::spawn(port, None, &[], "Ready to accept connections")
    }

    /// Starts `redis-server [CONF] --port PORT --bind 127.0.0.1 …` without persistence, then
    /// the `extra` arguments, and returns once its log shows `ready`.
    pub fn spawn(port: u16, conf: Option<&Path>, extra: &[&str], ready: &str) -> RedisServer {
        let mut args: Vec<String> = conf.map(|c| c.display().to_string()).into_iter().collect();
        for a in [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
            "--logfile",
            "",
        ] {
            args.push(a.to_owned());
        }
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let mut child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)");
        let out = child.stdout.take().unwrap();
        // Read its log on a thread that keeps draining it (so it never blocks on a full pipe)
        // and says when `ready` shows; a server that never gets ready fails the test.
        let (tx, rx) = std::sync::mpsc::channel();
        let ready = ready.to_owned();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if line.contains(&ready)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("redis-server on port {port} exited or never got ready");
        }
        RedisServer {
            child: Some(child),
            port,
        }
    }

    /// Sends `signal` (e.g. `STOP`, `CONT`) to this server's process, by its pid.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id();
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{signal} {pid}");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `redis-cli -p PORT ARGS…` on loopback: its standard output.
pub fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("redis-cli is installed (it comes with redis-server)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether `program` can be run (the Sentinel and Cluster tests skip without it).
pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The value of the Prometheus sample `name` (exact name with labels) in `text`.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// A certificate authority for terminals (or for the relay's server certificate).
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Ca { issuer }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// (certificate PEM, key PEM) for subject CN `cn` and the given SAN names.
    pub fn issue(&self, cn: &str, names: &[&str]) -> (String, String) {
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// The config text of a relay in front of `mock_url`: merchant `hq` (devices POS-01..POS-09 and
/// the given extra devices) and service-provider merchant `sp` (device SP-01).
pub fn config_text(mock_url: &str, extra: &str) -> String {
    let mut devices = String::new();
    for i in 1..=9 {
        devices.push_str(&format!(
            "[[device]]\nid = \"POS-0{i}\"\nmerchant = \"hq\"\nstores = [\"1001\", \"1002\"]\n"
        ));
    }
    let timeout = if extra.contains("upstream_timeout_ms") {
        ""
    } else {
        "upstream_timeout_ms = 2000"
    };
    format!(
        r#"listen = "127.0.0.1:0"
tokens_file = "tokens"
audit_log = "audit.log"
{timeout}
{extra}

[[merchant]]
name = "hq"
mch_id = "1900000109"
appid = "wx2421b1c4370ec43b"
key = "{KEY}"
base_url = "{mock_url}"

[[merchant]]
name = "sp"
mch_id = "1900000100"
appid = "wx8888888888888888"
sub_mch_id = "1900000201"
key_file = "sp.key"
base_url = "{mock_url}"
sign_type = "MD5"

{devices}
[[device]]
id = "SP-01"
merchant = "sp"

[[device]]
id = "POS-CERT"
merchant = "hq"
"#
    )
}

/// Writes the config (and the `sp` key file) into `dir` and loads it.
pub fn load_config(dir: &Path, mock_url: &str, extra: &str) -> RelayConfig {
    std::fs::write(dir.join("sp.key"), format!("{KEY}\n")).unwrap();
    let path = dir.join("relay.toml");
    std::fs::write(&path, config_text(mock_url, extra)).unwrap();
    RelayConfig::load(&path).unwrap()
}

/// A relay on its own multi-threaded runtime, so tests call it with blocking clients.
pub struct RunningRelay {
    pub rt: tokio::runtime::Runtime,
    pub relay: Option<Relay>,
    pub url: String,
}

impl RunningRelay {
    pub fn start(config: RelayConfig) -> RunningRelay {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let relay = rt.block_on(Relay::start(config)).unwrap();
        let url = relay.base_url();
        RunningRelay {
            rt,
            relay: Some(relay),
            url,
        }
    }

    pub fn upstream_calls(&self) -> u64 {
        self.relay.as_ref().unwrap().metrics().upstream_calls()
    }
}

impl Drop for RunningRelay {
    fn drop(&mut self) {
        if let Some(r) = self.relay.take() {
            self.rt.block_on(r.stop());
        }
    }
}

/// Issues a token for `device` in `dir/tokens`.
pub fn token(dir: &Path, device: &str) -> String {
    wxface_relay::tokens::add(&dir.join("tokens"), device)
        .unwrap()
        .to_string()
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

/// An agent trusting `ca_pem`, presenting `client` (cert PEM, key PEM) if given.
pub fn tls_agent(ca_pem: &str, client: Option<&(String, String)>) -> ureq::Agent {
    use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
    let root = Certificate::from_pem(ca_pem.as_bytes()).unwrap();
    let mut tls = TlsConfig::builder().root_certs(RootCerts::new_with_certs(&[root]));
    if let Some((cert, key)) = client {
        let cert = Certificate::from_pem(cert.as_bytes()).unwrap();
        let key = PrivateKey::from_pem(key.as_bytes()).unwrap();
        tls = tls.client_cert(Some(ClientCert::new_with_certs(&[cert], key)));
    }
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .tls_config(tls.build())
        .build()
        .new_agent()
}

/// The JSON body for `device` at store 1001.
pub fn body(device: &str, rawdata: &str) -> String {
    serde_json::json!({
        "store_id": "1001",
        "store_name": "深圳南山科技园店",
        "device_id": device,
        "rawdata": rawdata,
    })
    .to_string()
}

pub struct Answer {
    pub status: u16,
    pub json: Value,
    pub retry_after: Option<String>,
}

/// POSTs `body` to `/v1/authinfo` with an optional bearer token.
pub fn post(
    agent: &ureq::Agent,
    base: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> Result<Answer, ureq::Error> {
    let mut req = agent
        .post(format!("{base}/v1/authinfo"))
        .header("Content-Type", content_type);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let mut resp = req.send(body.as_bytes())?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = resp.body_mut().read_to_string()?;
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Answer {
        status,
        json,
        retry_after,
    })
}

pub fn call(agent: &ureq::Agent, base: &str, token: &str, body: &str) -> Answer {
    post(agent, base, Some(token), "application/json", body).unwrap()
}

pub fn get_text(agent: &ureq::Agent, url: &str) -> (u16, String) {
    let mut resp = agent.get(url).call().unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap())
}

/// Polls `f` until it returns true or `limit` passes (waiting for a state, not ordering).
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn mock(config: wxface_mock::MockConfig) -> Arc<wxface_mock::MockServer> {
    Arc::new(wxface_mock::MockServer::start(config).unwrap())
}

/// The `wxface-relay` binary serving `config` as a child process (for signals and process
/// limits), with its standard error collected line by line.
pub struct RelayProcess {
    child: Child,
    pub url: String,
    pub addr: std::net::SocketAddr,
    pub stderr: Arc<std::sync::Mutex<Vec<String>>>,
}

impl RelayProcess {
    /// Starts `wxface-relay serve --config config`, under `ulimit -n nofile` if given, and
    /// returns once it logged the address it listens on.
    pub fn spawn(config: &Path, nofile: Option<u32>) -> RelayProcess {
        let bin = env!("CARGO_BIN_EXE_wxface-relay");
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = Command::new("bash");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), bin]);
                c
            }
            None => Command::new(bin),
        };
        let mut child = cmd
            .arg("serve")
            .arg("--config")
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let stderr = Arc::new(std::sync::Mutex::new(Vec::new()));
        let url = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("wxface-relay exited before listening: {:?}", stderr);
            };
            stderr.lock().unwrap().push(line.clone());
            if let Some((_, rest)) = line.split_once("listening on ") {
                break rest
                    .split(|c: char| c.is_whitespace() || c == '"')
                    .next()
                    .unwrap()
                    .to_owned();
            }
        };
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let addr = url.rsplit('/').next().unwrap().parse().unwrap();
        RelayProcess {
            child,
            url,
            addr,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`TERM`, `INT`) with kill(1).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name} failed");
    }

    /// The exit status, waiting at most `limit`; `None` if it is still running then.
    pub fn exit_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + limit;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return Some(st);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// User + system CPU time consumed so far, from /proc/<pid>/stat.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // USER_HZ is 100 on Linux (the kernel ABI fixes it for /proc).
        Duration::from_millis(ticks * 10)
    }

    /// True while connecting to its port succeeds (false once the listener is closed).
    pub fn accepts(&self) -> bool {
        std::net::TcpStream::connect_timeout(&self.addr, Duration::from_secs(2)).is_ok()
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 response read from a raw socket: status, lower-cased headers, body.
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Writes `request` on `stream` and reads one response (with a Content-Length body).
pub fn raw_exchange(
    stream: &mut std::net::TcpStream,
    request: &str,
) -> std::io::Result<RawResponse> {
    use std::io::{Read, Write};
    stream.write_all(request.as_bytes())?;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body)?;
    Ok(RawResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// True if the peer closed `stream` (EOF or reset) within `limit`, with nothing sent to it.
pub fn closed_within(stream: &mut std::net::TcpStream, limit: Duration) -> bool {
    use std::io::Read;
    let end = Instant::now() + limit;
    let mut buf = [0u8; 256];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}
