//! `wxface doctor` and the library reach the same verdict on a proxy (issue 19 §2): the doctor
//! tunnels with the library's own handshake. Each row is a scripted proxy answer; the doctor's
//! TCP step and a library call through the same proxy must both pass (the proxy then relays to
//! the mock) or both fail with the same message.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use support::*;
use wxface::{ApiKey, AuthinfoRequest, Client, Config};

/// How the scripted proxy answers.
#[derive(Clone, Copy)]
enum Script {
    /// Reads the CONNECT head, writes this answer; relays to the mock when `relay`.
    Http(&'static [u8], bool),
    /// Reads the greeting, writes `method`; if it chose user/password and the client offered
    /// it, reads the credentials and accepts them; reads the request, writes `reply`; relays
    /// when `relay`.
    Socks {
        method: &'static [u8],
        reply: &'static [u8],
        relay: bool,
    },
}

const OK_REPLY: &[u8] = &[5, 0, 0, 1, 127, 0, 0, 1, 0, 80];

/// (name, script, proxy URL credentials, does the tunnel open)
const TABLE: &[(&str, Script, &str, bool)] = &[
    (
        "CONNECT 200",
        Script::Http(b"HTTP/1.1 200 Connection established\r\n\r\n", true),
        "",
        true,
    ),
    (
        "CONNECT 200 over HTTP/1.0",
        Script::Http(b"HTTP/1.0 200 OK\r\n\r\n", true),
        "",
        true,
    ),
    // The doctor used to accept only 200, the library any 2xx (RFC 9110: any 2xx).
    (
        "CONNECT 204",
        Script::Http(b"HTTP/1.1 204 No Content\r\n\r\n", true),
        "",
        true,
    ),
    // The library used to read this as 200.
    (
        "CONNECT 2000",
        Script::Http(b"HTTP/1.1 2000 OK\r\n\r\n", true),
        "",
        false,
    ),
    (
        "CONNECT 407",
        Script::Http(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n",
            false,
        ),
        "",
        false,
    ),
    (
        "CONNECT 403",
        Script::Http(b"HTTP/1.1 403 Forbidden\r\n\r\n", false),
        "",
        false,
    ),
    (
        "CONNECT 502",
        Script::Http(b"HTTP/1.1 502 Bad Gateway\r\n\r\n", false),
        "",
        false,
    ),
    (
        "not HTTP",
        Script::Http(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", false),
        "",
        false,
    ),
    (
        "CONNECT answer cut short",
        Script::Http(b"HTTP/1.1 200 Conn", false),
        "",
        false,
    ),
    (
        "SOCKS5 success",
        Script::Socks {
            method: &[5, 0],
            reply: OK_REPLY,
            relay: true,
        },
        "",
        true,
    ),
    (
        "SOCKS5 with credentials",
        Script::Socks {
            method: &[5, 2],
            reply: OK_REPLY,
            relay: true,
        },
        "u:pw@",
        true,
    ),
    // The doctor used to offer "no authentication" beside user/password, and accept it.
    (
        "SOCKS5 skips the credentials we hold",
        Script::Socks {
            method: &[5, 0],
            reply: OK_REPLY,
            relay: true,
        },
        "u:pw@",
        false,
    ),
    (
        "SOCKS5 chooses user/password we do not have",
        Script::Socks {
            method: &[5, 2],
            reply: OK_REPLY,
            relay: true,
        },
        "",
        false,
    ),
    (
        "SOCKS5 no acceptable method",
        Script::Socks {
            method: &[5, 0xff],
            reply: &[],
            relay: false,
        },
        "",
        false,
    ),
    (
        "SOCKS5 host unreachable",
        Script::Socks {
            method: &[5, 0],
            reply: &[5, 4, 0, 1, 0, 0, 0, 0, 0, 0],
            relay: false,
        },
        "",
        false,
    ),
    (
        "SOCKS5 reply cut short",
        Script::Socks {
            method: &[5, 0],
            reply: &[5, 0, 0],
            relay: false,
        },
        "",
        false,
    ),
    (
        "SOCKS5 method reply cut short",
        Script::Socks {
            method: &[5],
            reply: &[],
            relay: false,
        },
        "",
        false,
    ),
    (
        "not SOCKS5",
        Script::Socks {
            method: b"HTTP/1.1 400 Bad Request\r\n\r\n",
            reply: &[],
            relay: false,
        },
        "",
        false,
    ),
];

/// A scripted proxy on loopback, answering every connection until dropped.
struct FakeProxy {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl FakeProxy {
    fn start(script: Script, upstream: SocketAddr) -> FakeProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                std::thread::spawn(move || serve(conn, script, upstream));
            }
        });
        FakeProxy { port, stop }
    }
}

impl Drop for FakeProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn read_n(c: &mut TcpStream, n: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; n];
    c.read_exact(&mut buf).ok()?;
    Some(buf)
}

fn serve(mut c: TcpStream, script: Script, upstream: SocketAddr) -> Option<()> {
    c.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .ok()?;
    let relay = match script {
        Script::Http(answer, relay) => {
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                head.extend(read_n(&mut c, 1)?);
            }
            c.write_all(answer).ok()?;
            relay
        }
        Script::Socks {
            method,
            reply,
            relay,
        } => {
            let greeting = read_n(&mut c, 2)?;
            let offered = read_n(&mut c, usize::from(greeting[1]))?;
            c.write_all(method).ok()?;
            if method != [5, 0] && method != [5, 2] {
                return None;
            }
            if method == [5, 2] && offered.contains(&2) {
                let v = read_n(&mut c, 2)?;
                let _user = read_n(&mut c, usize::from(v[1]))?;
                let plen = read_n(&mut c, 1)?;
                let _pass = read_n(&mut c, usize::from(plen[0]))?;
                c.write_all(&[1, 0]).ok()?;
            }
            let head = read_n(&mut c, 4)?;
            let rest = match head[3] {
                1 => 4 + 2,
                4 => 16 + 2,
                _ => usize::from(read_n(&mut c, 1)?[0]) + 2,
            };
            read_n(&mut c, rest)?;
            c.write_all(reply).ok()?;
            relay
        }
    };
    if !relay {
        let _ = c.shutdown(Shutdown::Both);
        return None;
    }
    let up = TcpStream::connect(upstream).ok()?;
    let (mut c2, mut u2) = (c.try_clone().ok()?, up.try_clone().ok()?);
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut u2);
        let _ = u2.shutdown(Shutdown::Write);
    });
    let (mut u, mut c) = (up, c);
    let _ = std::io::copy(&mut u, &mut c);
    let _ = c.shutdown(Shutdown::Write);
    let _ = t.join();
    Some(())
}

#[test]
fn the_doctor_and_the_library_reach_the_same_verdict_on_each_proxy_answer() {
    let server = start(MockConfig::default());
    let mut failures = Vec::new();
    for (name, script, credentials, opens) in TABLE {
        let proxy = FakeProxy::start(*script, server.addr());
        let scheme = match script {
            Script::Http(..) => "http",
            Script::Socks { .. } => "socks5",
        };
        let proxy_url = format!("{scheme}://{credentials}127.0.0.1:{}", proxy.port);

        let run = doctor(&server.base_url(), &["--proxy", &proxy_url], &env_for(KEY));
        let tcp = run.step("TCP");
        let doctor_opens = tcp["status"] == "pass";
        let detail = tcp["detail"].as_str().unwrap_or_default().to_owned();

        let client = Client::new(
            Config::builder(MCH_ID, APPID, ApiKey::new(KEY).unwrap())
                .base_url(server.base_url())
                .proxy(&proxy_url)
                .max_retries(0)
                .cache(false)
                .build()
                .unwrap(),
        )
        .unwrap();
        let call = client.get_authinfo(&AuthinfoRequest::new("1001", "店", "POS-01", "raw"));
        let library_opens = call.is_ok();

        let same = match &call {
            Ok(_) => doctor_opens,
            // The doctor's verdict quotes the library's error.
            Err(e) => !doctor_opens && detail.contains(&e.to_string()),
        };
        if !same || library_opens != *opens {
            failures.push(format!(
                "{name}: expected the tunnel to {}; doctor: {detail:?}; library: {:?}",
                if *opens { "open" } else { "fail" },
                call.map(|_| "ok").map_err(|e| e.to_string())
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
