//! `wxface doctor`: configuration → DNS → TCP → TLS → clock → signed probe, each step timed,
//! with a verdict, a likely cause and a fix for every failure.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::net::{self, Target};
use crate::out::{out, outln};
use crate::settings::Settings;

/// Exit codes, one per failed step (the first failure decides); a refused configuration is an
/// invalid argument, 11, as in every command.
pub mod exit {
    pub const CONFIG: u8 = 11;
    pub const DNS: u8 = 21;
    pub const TCP: u8 = 22;
    pub const TLS: u8 = 23;
    pub const CLOCK: u8 = 24;
    pub const KEY: u8 = 25;
    pub const IDS: u8 = 26;
    pub const PERMISSION: u8 = 27;
    pub const PROBE: u8 = 28;
    pub const DEADLINE: u8 = 29;
}

/// The `rawdata` of the probe: deliberately not from a face SDK, so WeChat answers
/// `无效的RawData数据` once it has accepted the signature, the clock and the ids.
pub const PROBE_RAWDATA: &str = "wxface-doctor-probe-not-a-real-rawdata";
/// WeChat refuses a `now` further than this from its clock.
const MAX_SKEW_SECS: i64 = 300;
/// Warn when the server certificate expires within this many days.
const CERT_WARN_DAYS: i64 = 30;
const STEPS: usize = 6;

#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

/// One step of the report.
#[derive(Serialize, Debug)]
pub struct Step {
    pub name: &'static str,
    pub status: Status,
    pub ms: u64,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u8>,
}

/// The whole report (`--json` prints it as one object).
#[derive(Serialize, Debug)]
pub struct Report {
    pub base_url: String,
    pub deadline_ms: u64,
    pub ok: bool,
    pub exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_msg: Option<String>,
    pub steps: Vec<Step>,
    pub warnings: Vec<String>,
}

/// What a step found.
struct Outcome {
    status: Status,
    detail: String,
    cause: Option<String>,
    fix: Option<String>,
    code: Option<u8>,
}

impl Outcome {
    fn pass(detail: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Pass,
            detail: detail.into(),
            cause: None,
            fix: None,
            code: None,
        }
    }
    fn skip(detail: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Skip,
            ..Outcome::pass(detail)
        }
    }
    fn fail(code: u8, detail: impl Into<String>, cause: &str, fix: &str) -> Outcome {
        Outcome {
            status: Status::Fail,
            detail: detail.into(),
            cause: Some(cause.to_owned()),
            fix: Some(fix.to_owned()),
            code: Some(code),
        }
    }
}

/// Prints steps as they run (text mode) and collects them. Once standard output is closed the
/// remaining steps are not run: the error ends the command.
struct Runner {
    text: bool,
    closed: Option<io::Error>,
    steps: Vec<Step>,
    deadline: Instant,
    budget: Duration,
}

impl Runner {
    /// Prints (text mode) through `print`, remembering a failed write.
    fn print(&mut self, print: impl FnOnce() -> io::Result<()>) {
        if self.text
            && self.closed.is_none()
            && let Err(e) = print()
        {
            self.closed = Some(e);
        }
    }

    fn run(&mut self, name: &'static str, f: impl FnOnce(&mut Self) -> Outcome) -> Status {
        if self.closed.is_some() {
            return Status::Skip;
        }
        let n = self.steps.len() + 1;
        self.print(|| out!("[{n}/{STEPS}] {name:<13} "));
        let t0 = Instant::now();
        let mut out = if Instant::now() >= self.deadline {
            deadline_outcome(name, self.budget)
        } else {
            f(self)
        };
        // A failure that happened because the deadline ran out is reported as such.
        if out.status == Status::Fail
            && Instant::now() >= self.deadline
            && out.code != Some(exit::DEADLINE)
        {
            let detail = out.detail.clone();
            out = deadline_outcome(name, self.budget);
            out.detail = format!("{detail} — {}", out.detail);
        }
        let ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mark = match out.status {
            Status::Pass => "✓",
            Status::Fail => "✗",
            Status::Skip => "–",
        };
        self.print(|| {
            outln!("{mark} {ms} ms")?;
            outln!("      {}", out.detail)?;
            if let Some(c) = &out.cause {
                outln!("      cause: {c}")?;
            }
            if let Some(f) = &out.fix {
                outln!("      fix: {f}")?;
            }
            Ok(())
        });
        let status = out.status;
        self.steps.push(Step {
            name,
            status,
            ms,
            detail: out.detail,
            cause: out.cause,
            fix: out.fix,
            exit_code: out.code,
        });
        status
    }

    fn skip(&mut self, name: &'static str, why: &str) {
        self.run(name, |_| Outcome::skip(why.to_owned()));
    }
}

fn deadline_outcome(name: &str, budget: Duration) -> Outcome {
    Outcome::fail(
        exit::DEADLINE,
        format!(
            "the doctor's deadline of {:.1} s ran out during {name}",
            budget.as_secs_f64()
        ),
        "the network is very slow or something on the path holds connections open without answering",
        "run again with a larger --timeout-secs; if it still runs out, check the proxy or firewall that stalls the connection",
    )
}

/// Runs the checklist. Returns the report (the caller prints JSON), or the error of a write to
/// standard output.
pub fn run(settings: &Settings, budget: Duration, text: bool) -> io::Result<Report> {
    let deadline = Instant::now() + budget;
    let base_url = settings.base_url().to_owned();
    let mut r = Runner {
        text,
        closed: None,
        steps: Vec::new(),
        deadline,
        budget,
    };
    r.print(|| {
        outln!(
            "wxface doctor: {base_url} (deadline {:.1} s)",
            budget.as_secs_f64()
        )
    });
    let mut config = None;
    let mut target = None;
    r.run("configuration", |_| {
        configuration(settings, deadline, &mut config, &mut target)
    });
    let mut remote = None;
    // The configuration step built (and so validated) the library's configuration: its proxy
    // is the one the doctor tunnels through. The probe builds its own with the time then left.
    if let (Some(config), Some(target)) = (config, target) {
        network_steps(&mut r, settings, &config, &target, &mut remote);
    } else {
        for name in ["DNS", "TCP", "TLS", "clock", "probe"] {
            r.skip(name, "skipped: fix the configuration first");
        }
    }
    let failed = r.steps.iter().find(|s| s.status == Status::Fail);
    let exit_code = failed.and_then(|s| s.exit_code).unwrap_or(0);
    let failed_step = failed.map(|s| s.name);
    r.print(|| match failed_step {
        None => outln!("result: all checks passed (exit code 0)"),
        Some(step) => outln!("result: FAILED at {step} (exit code {exit_code})"),
    });
    if let Some(e) = r.closed {
        return Err(e);
    }
    let (return_code, return_msg) = remote.unzip();
    Ok(Report {
        base_url,
        deadline_ms: u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
        ok: failed_step.is_none(),
        exit_code,
        failed_step,
        return_code,
        return_msg,
        steps: r.steps,
        warnings: settings.warnings.clone(),
    })
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_appid(s: &str) -> bool {
    s.len() == 18 && s.starts_with("wx") && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn configuration(
    settings: &Settings,
    deadline: Instant,
    config: &mut Option<wxface::Config>,
    target: &mut Option<Target>,
) -> Outcome {
    let bad = |detail: String, fix: &str| {
        Outcome::fail(
            exit::CONFIG,
            detail,
            "the configuration is incomplete or malformed, so WeChat would refuse every call",
            fix,
        )
    };
    let src = |name: &str| settings.source(name).unwrap_or("default");
    let mut notes = Vec::new();
    for (name, check, example) in [
        ("mch_id", is_digits as fn(&str) -> bool, "1900000109"),
        ("appid", is_appid, "wx2421b1c4370ec43b"),
        ("sub_mch_id", is_digits, "1900000110"),
        ("sub_appid", is_appid, "wx8888888888888888"),
    ] {
        match settings.get(name) {
            None if matches!(name, "mch_id" | "appid") => {
                return bad(
                    format!("{name} is not set"),
                    &format!(
                        "set --{} or WXFACE_{} or `{name}` in the config file",
                        name.replace('_', "-"),
                        name.to_ascii_uppercase()
                    ),
                );
            }
            None => {}
            Some(v) if !check(v) => {
                return bad(
                    format!("{name} {v:?} does not look like one (e.g. {example})"),
                    &format!(
                        "copy {name} from the merchant platform; mch ids are digits, appids are wx + 16 characters"
                    ),
                );
            }
            Some(v) => notes.push(format!("{name} {v} ({})", src(name))),
        }
    }
    if settings.get("sub_appid").is_some() && settings.get("sub_mch_id").is_none() {
        return bad(
            "sub_appid is set without sub_mch_id".into(),
            "in service-provider mode set the sub-merchant's sub_mch_id too; otherwise remove sub_appid",
        );
    }
    let Some(key) = settings.key() else {
        return bad(
            "no API key".into(),
            "set WXFACE_KEY or `key` in a config file readable only by you (never a command-line flag)",
        );
    };
    if key.len() != wxface::API_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return bad(
            format!(
                "the API key ({}) is {} bytes{}; an APIv2 key is {} printable ASCII characters",
                src("key"),
                key.len(),
                if key.bytes().all(|b| b.is_ascii_graphic()) {
                    ""
                } else {
                    " with spaces or non-ASCII"
                },
                wxface::API_KEY_LEN
            ),
            "copy the APIv2 key again (merchant platform: 账户中心 → API安全), without quotes or trailing newline",
        );
    }
    notes.push(format!("key {} characters ({})", key.len(), src("key")));
    let sign_type = match settings.sign_type() {
        Ok(t) => t,
        Err(e) => return bad(e, "use sign_type MD5 or HMAC-SHA256"),
    };
    notes.push(format!("sign type {}", sign_type.as_str()));
    let t = match Target::parse(settings.base_url()) {
        Ok(t) => t,
        Err(e) => {
            return bad(
                format!("base_url: {e}"),
                "use https://payapp.weixin.qq.com (the default)",
            );
        }
    };
    if let Some(path) = settings.get("ca_file") {
        let pem = match std::fs::read(path) {
            Ok(p) => p,
            Err(e) => {
                return bad(
                    format!("ca_file {path}: {e}"),
                    "point ca_file at a readable PEM file",
                );
            }
        };
        let infos = match net::pem_cert_infos(&pem) {
            Ok(i) if !i.is_empty() => i,
            Ok(_) => {
                return bad(
                    format!("ca_file {path} holds no certificate"),
                    "point ca_file at a PEM file with CERTIFICATE blocks",
                );
            }
            Err(e) => {
                return bad(
                    format!("ca_file {path}: {e}"),
                    "point ca_file at a PEM file with CERTIFICATE blocks",
                );
            }
        };
        let now = unix_now();
        for info in &infos {
            if info.not_after < now {
                return Outcome::fail(
                    exit::CONFIG,
                    format!(
                        "ca_file {path}: {} expired {} days ago",
                        info.subject,
                        (now - info.not_after) / 86_400
                    ),
                    "an expired trust root: every certificate chained to it is refused",
                    "install the CA's renewed certificate in ca_file",
                );
            }
        }
        notes.push(format!("ca_file {path} ({} certificate(s))", infos.len()));
    }
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    match settings.build_config(left, |b| {
        b.max_retries(0).cache(false).clock_skew_correction(false)
    }) {
        Ok(c) => {
            if let Some(proxy) = Proxy::of(&c) {
                notes.push(format!("proxy {}://{}", proxy.scheme, proxy.authority()));
            }
            *config = Some(c);
        }
        Err(e) => return bad(e, "fix the setting named above"),
    }
    *target = Some(t);
    notes.push(format!("base {}", settings.base_url()));
    Outcome::pass(notes.join(", "))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A connection after the TCP (and TLS) steps, for the clock step.
enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

/// The configured proxy, as the library parsed it.
struct Proxy<'a> {
    scheme: &'static str,
    host: &'a str,
    port: u16,
}

impl Proxy<'_> {
    fn of(config: &wxface::Config) -> Option<Proxy<'_>> {
        wxface::doctor::proxy(config).map(|(scheme, host, port)| Proxy { scheme, host, port })
    }

    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn network_steps(
    r: &mut Runner,
    settings: &Settings,
    config: &wxface::Config,
    target: &Target,
    remote: &mut Option<(String, String)>,
) {
    let deadline = r.deadline;
    let proxy = Proxy::of(config);
    // DNS: the proxy's name when there is one (the proxy resolves the endpoint's).
    let lookup = proxy
        .as_ref()
        .map_or((target.host.as_str(), target.port), |p| (p.host, p.port));
    let mut addrs: Vec<SocketAddr> = Vec::new();
    let dns = r.run("DNS", |_| dns_step(lookup, proxy.is_some(), &mut addrs));
    if dns != Status::Pass {
        for name in ["TCP", "TLS", "clock", "probe"] {
            r.skip(name, "skipped: no address to connect to");
        }
        return;
    }
    let mut tcp = None;
    let st = r.run("TCP", |_| {
        tcp_step(&addrs, config, target, proxy.as_ref(), deadline, &mut tcp)
    });
    let Some(tcp) = tcp.filter(|_| st == Status::Pass) else {
        for name in ["TLS", "clock", "probe"] {
            r.skip(name, "skipped: no connection");
        }
        return;
    };
    let mut conn = None;
    let st = r.run("TLS", |_| tls_step(settings, target, tcp, &mut conn));
    let Some(conn) = conn.filter(|_| st != Status::Fail) else {
        for name in ["clock", "probe"] {
            r.skip(name, "skipped: no trusted connection");
        }
        return;
    };
    r.run("clock", |_| clock_step(conn, target, deadline));
    r.run("probe", |_| probe_step(settings, deadline, remote));
}

fn dns_step((host, port): (&str, u16), via_proxy: bool, addrs: &mut Vec<SocketAddr>) -> Outcome {
    let what = if via_proxy { "the proxy " } else { "" };
    if host.parse::<std::net::IpAddr>().is_ok() {
        *addrs = net::resolve(host, port).unwrap_or_default();
        return Outcome::pass(format!("{what}{host} is an IP address: no lookup needed"));
    }
    match net::resolve(host, port) {
        Ok(a) => {
            let list: Vec<String> = a.iter().map(|s| s.ip().to_string()).collect();
            *addrs = a;
            Outcome::pass(format!("{what}{host} → {}", list.join(", ")))
        }
        Err(e) => Outcome::fail(
            exit::DNS,
            format!("cannot resolve {what}{host}: {e}"),
            "the terminal has no working DNS server, or the shop network blocks DNS",
            "check /etc/resolv.conf (or the DHCP lease) and that the name resolves from this network; if the shop requires a proxy, set proxy",
        ),
    }
}

fn tcp_step(
    addrs: &[SocketAddr],
    config: &wxface::Config,
    target: &Target,
    proxy: Option<&Proxy<'_>>,
    deadline: Instant,
    out: &mut Option<TcpStream>,
) -> Outcome {
    let (mut s, addr) = match net::connect_any(addrs, deadline) {
        Ok(x) => x,
        Err(e) => {
            let to = proxy.map_or_else(
                || target.authority(),
                |p| format!("the proxy {}", p.authority()),
            );
            return match e.kind() {
                io::ErrorKind::ConnectionRefused => Outcome::fail(
                    exit::TCP,
                    format!("connection to {to} refused"),
                    "nothing listens there: a wrong base_url or proxy port, or the service is down",
                    "check the host and port in base_url / proxy",
                ),
                _ => Outcome::fail(
                    exit::TCP,
                    format!("cannot connect to {to}: {e}"),
                    "a firewall drops the traffic, or the network has no route out",
                    "allow outbound TCP to port 443 of payapp.weixin.qq.com, or set the shop's proxy",
                ),
            };
        }
    };
    let detail = match proxy {
        None => format!("connected to {addr} (direct)"),
        Some(p) => {
            // The library's own handshake: the doctor passes exactly when a call would.
            let tunnel = wxface::doctor::proxy_tunnel(config, &mut s, &target.host, target.port);
            if let Err(e) = tunnel {
                return Outcome::fail(
                    exit::TCP,
                    format!(
                        "{} proxy {} did not open a tunnel to {}: {e}",
                        p.scheme,
                        p.authority(),
                        target.authority()
                    ),
                    "the proxy refuses the destination or our credentials",
                    "ask the network's administrator to allow payapp.weixin.qq.com:443 through the proxy, and check the proxy credentials",
                );
            }
            format!(
                "tunnel to {} through {} proxy {addr}",
                target.authority(),
                p.scheme
            )
        }
    };
    *out = Some(s);
    Outcome::pass(detail)
}

fn days_left(not_after: i64) -> i64 {
    (not_after - unix_now()).div_euclid(86_400)
}

fn tls_step(
    settings: &Settings,
    target: &Target,
    tcp: TcpStream,
    out: &mut Option<Conn>,
) -> Outcome {
    if target.scheme == "http" {
        *out = Some(Conn::Plain(tcp));
        return Outcome::skip("plain http:// to a loopback test server: no TLS");
    }
    let builtin = settings.builtin_roots().unwrap_or(true);
    let ca = settings.get("ca_file").and_then(|p| std::fs::read(p).ok());
    let roots = match net::root_store(builtin, ca.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            return Outcome::fail(
                exit::TLS,
                format!("trust roots: {e}"),
                "the CA file cannot be used",
                "fix ca_file",
            );
        }
    };
    let host = target.host.trim_start_matches('[').trim_end_matches(']');
    let outcome = net::handshake(tcp, host, roots);
    let leaf = outcome.chain.first().and_then(|c| net::cert_info(c));
    let trusted_by = if settings.get("ca_file").is_some() {
        if builtin {
            "the bundled roots or ca_file"
        } else {
            "ca_file"
        }
    } else {
        "the bundled roots"
    };
    match outcome.result {
        Ok((stream, version)) => {
            let Some(leaf) = leaf else {
                *out = Some(Conn::Tls(Box::new(stream)));
                return Outcome::pass(format!("{version}, certificate trusted (names unreadable)"));
            };
            let days = days_left(leaf.not_after);
            *out = Some(Conn::Tls(Box::new(stream)));
            let mut detail = format!(
                "{version}, {} issued by {} (trusted via {trusted_by}), valid for {host}, expires in {days} days",
                leaf.subject, leaf.issuer
            );
            if days < CERT_WARN_DAYS {
                detail.push_str(" — renewal due soon");
            }
            Outcome::pass(detail)
        }
        Err(e) => {
            if let Some(io) = outcome.io_error {
                return Outcome::fail(
                    exit::TLS,
                    format!("the connection failed during the TLS handshake: {io}"),
                    "something on the path closes TLS connections (a firewall or a proxy that only allows plain HTTP)",
                    "allow TLS to payapp.weixin.qq.com:443 or set the shop's proxy",
                );
            }
            tls_failure(&e, leaf.as_ref(), host, trusted_by)
        }
    }
}

fn tls_failure(
    e: &rustls::Error,
    leaf: Option<&net::CertInfo>,
    host: &str,
    trusted_by: &str,
) -> Outcome {
    use rustls::CertificateError as C;
    let names = leaf.map_or_else(String::new, |l| {
        format!(" ({} issued by {})", l.subject, l.issuer)
    });
    match e {
        rustls::Error::InvalidCertificate(
            C::UnknownIssuer | C::UnhandledCriticalExtension | C::BadSignature,
        ) => {
            let issuer = leaf.map_or("an unknown issuer", |l| l.issuer.as_str());
            Outcome::fail(
                exit::TLS,
                format!(
                    "the server's certificate was issued by {issuer}, which is not among {trusted_by}{names}"
                ),
                "a TLS-intercepting middlebox (proxy, firewall or antivirus) presents its own certificate, or ca_file does not hold the server's CA",
                "let payapp.weixin.qq.com bypass TLS inspection on the shop's firewall; for a test server, set ca_file to its CA",
            )
        }
        rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => Outcome::fail(
            exit::TLS,
            format!("the server's certificate is outside its validity period{names}: {e}"),
            "the terminal clock is far off, or a middlebox presents an expired certificate",
            "set the terminal clock (NTP) and run the doctor again",
        ),
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => Outcome::fail(
            exit::TLS,
            format!("the server's certificate is not valid for {host}{names}"),
            "base_url names a host other than the one answering (DNS hijack or captive portal), or a middlebox",
            "use the default base_url https://payapp.weixin.qq.com and check DNS",
        ),
        other => Outcome::fail(
            exit::TLS,
            format!("TLS handshake failed: {other}{names}"),
            "the server or a middlebox speaks a TLS this client refuses",
            "check for TLS inspection on the network; update the terminal's wxface",
        ),
    }
}

fn clock_step(conn: Conn, target: &Target, deadline: Instant) -> Outcome {
    let host = target.authority();
    let path = wxface::authinfo::PATH;
    let result = match conn {
        Conn::Plain(mut s) => {
            net::set_deadline(&s, deadline).and_then(|()| net::http_date(&mut s, &host, path))
        }
        // Only the head is read; the connection is then dropped (the request said close).
        Conn::Tls(mut s) => {
            net::set_deadline(&s.sock, deadline).and_then(|()| net::http_date(&mut *s, &host, path))
        }
    };
    let local = SystemTime::now();
    let (status, date) = match result {
        Ok(x) => x,
        Err(e) => {
            return Outcome::fail(
                exit::CLOCK,
                format!("no HTTP answer to read the server's Date from: {e}"),
                "the connection was opened but the server does not answer HTTP",
                "check that base_url is the payapp endpoint and no middlebox holds the connection",
            );
        }
    };
    let Some(date) = date else {
        return Outcome::skip(format!(
            "the server sent no Date header ({status}); clock not checked"
        ));
    };
    let skew = match net::skew_secs(&date, local) {
        Ok(s) => s,
        Err(e) => return Outcome::skip(format!("{e}; clock not checked")),
    };
    let side = if skew >= 0 { "behind" } else { "ahead of" };
    if skew.abs() > MAX_SKEW_SECS {
        return Outcome::fail(
            exit::CLOCK,
            format!(
                "this terminal's clock is {} s {side} the server's (Date: {date})",
                skew.abs()
            ),
            "WeChat refuses a `now` more than 5 minutes off its clock: every call fails with 非法的Now参数",
            "set the clock: enable NTP (e.g. `timedatectl set-ntp true`) or `date -s` with the right time",
        );
    }
    Outcome::pass(format!(
        "server Date {date}; local clock {} s {side} it (limit {MAX_SKEW_SECS} s)",
        skew.abs()
    ))
}

fn probe_step(
    settings: &Settings,
    deadline: Instant,
    remote: &mut Option<(String, String)>,
) -> Outcome {
    // The probe may use what is left of the doctor's deadline, no more: one attempt, no
    // retries, no clock correction (the clock step judges the clock).
    let left = deadline.saturating_duration_since(Instant::now());
    let config = match settings.build_config(left.max(Duration::from_millis(1)), |b| {
        b.max_retries(0).cache(false).clock_skew_correction(false)
    }) {
        Ok(c) => c,
        Err(e) => {
            return Outcome::fail(
                exit::PROBE,
                format!("cannot configure the probe: {e}"),
                "the configuration was refused",
                "fix the setting named above",
            );
        }
    };
    let sign_type = config.sign_type().as_str();
    let client = match wxface::Client::new(config) {
        Ok(c) => c,
        Err(e) => {
            return Outcome::fail(
                exit::PROBE,
                format!("cannot create the client: {e}"),
                "the configuration was refused",
                "fix the setting named above",
            );
        }
    };
    let request = wxface::AuthinfoRequest::new(
        settings.get("store_id").unwrap_or("wxface-doctor"),
        settings.get("store_name").unwrap_or("wxface doctor"),
        settings.get("device_id").unwrap_or("wxface-doctor"),
        PROBE_RAWDATA,
    );
    let opts = wxface::CallOptions {
        use_cache: false,
        ..Default::default()
    };
    match client.get_authinfo_with(&request, &opts) {
        Ok(_) => Outcome::pass(format!(
            "SUCCESS: a correctly signed answer to a {sign_type} request; key, sign type and ids accepted (a lenient test server: WeChat itself refuses the probe's rawdata)"
        )),
        Err(e) => {
            if let Some((code, msg)) = e.remote() {
                *remote = Some((code.to_owned(), msg.to_owned()));
            }
            probe_verdict(&e, sign_type)
        }
    }
}

fn probe_verdict(e: &wxface::Error, sign_type: &str) -> Outcome {
    let Some((code, msg)) = e.remote() else {
        let kind = e.kind();
        let (cause, fix) = match kind {
            wxface::ErrorKind::Signature => (
                "the answer's signature does not verify with this key: a wrong key, or something altered the answer",
                "copy the APIv2 key again; check for middleboxes that rewrite traffic",
            ),
            wxface::ErrorKind::HttpStatus | wxface::ErrorKind::BadResponse => (
                "the answer is not WeChat's: a wrong base_url, or a proxy or captive portal answering instead",
                "use the default base_url and check what answers on this network",
            ),
            _ => (
                "the probe did not get an answer although the connection checks passed: an unstable network",
                "run the doctor again; check the link quality and the proxy",
            ),
        };
        return Outcome::fail(exit::PROBE, format!("{}: {e}", kind.name()), cause, fix);
    };
    let answered = format!("WeChat answered {code} {msg}");
    match msg {
        "无效的RawData数据" => Outcome::pass(format!(
            "{answered} to the deliberately invalid rawdata: key, sign type ({sign_type}) and ids are all accepted"
        )),
        "签名错误" => Outcome::fail(
            exit::KEY,
            answered,
            "the signature was refused: a wrong API key or sign type (in service-provider mode the provider's key signs)",
            "copy the APIv2 key again from the merchant platform (账户中心 → API安全) and check sign_type",
        ),
        "非法的Now参数" => Outcome::fail(
            exit::CLOCK,
            answered,
            "the request's `now` is more than 5 minutes from WeChat's clock: the terminal clock is off",
            "set the clock: enable NTP (e.g. `timedatectl set-ntp true`)",
        ),
        m if m.starts_with("请检查mchid") => Outcome::fail(
            exit::IDS,
            answered,
            "the identifiers do not belong together (e.g. a sub_appid not bound to the sub-merchant, or an appid of another merchant)",
            "check mch_id, appid, sub_mch_id and sub_appid against the merchant platform and bind the sub_appid to the sub-merchant",
        ),
        _ if code == "SYSTEMERROR" => Outcome::fail(
            exit::PERMISSION,
            answered,
            "key and request were accepted but WeChat could not issue an authinfo: the merchant most likely lacks face-pay permission",
            "apply for face-pay (刷脸支付) permission for this merchant, or retry later if it already has it",
        ),
        _ => Outcome::fail(
            exit::PROBE,
            answered,
            "WeChat refused the probe for a reason the doctor does not know",
            "look up the return_msg in WeChat's face-pay documentation",
        ),
    }
}
