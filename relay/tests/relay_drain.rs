//! Restarts lose nothing: on SIGTERM/SIGINT the relay stops accepting, answers `/readyz` 503,
//! finishes the request in flight, and exits 0; a second signal exits at once; the grace period
//! bounds the drain. The request in flight is held by a gate in front of the mock, so events are
//! ordered by observation, not by sleeps.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use support::*;
use wxface_mock::MockConfig;

/// A TCP relay in front of the mock that forwards requests at once and holds every answer
/// until [`Gate::open`].
struct Gate {
    addr: SocketAddr,
    open: Arc<(Mutex<bool>, Condvar)>,
}

impl Gate {
    fn start(upstream: SocketAddr) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new((Mutex::new(false), Condvar::new()));
        let gate = Arc::clone(&open);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let mut server = TcpStream::connect(upstream).unwrap();
                let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut s2);
                });
                let gate = Arc::clone(&gate);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = match server.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let (lock, cv) = &*gate;
                        let mut opened = lock.lock().unwrap();
                        while !*opened {
                            opened = cv.wait(opened).unwrap();
                        }
                        drop(opened);
                        if client.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Gate { addr, open }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn open(&self) {
        let (lock, cv) = &*self.open;
        *lock.lock().unwrap() = true;
        cv.notify_all();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.open();
    }
}

struct Setup {
    _dir: TempDir,
    mock: Arc<wxface_mock::MockServer>,
    gate: Gate,
    relay: RelayProcess,
    token: String,
}

fn setup(tag: &str, grace_ms: u64) -> Setup {
    let dir = TempDir::new(tag);
    let mock = mock(MockConfig::default());
    let gate = Gate::start(mock.addr());
    load_config(
        dir.path(),
        &gate.url(),
        &format!("upstream_timeout_ms = 60000\nshutdown_grace_ms = {grace_ms}"),
    );
    let token = token(dir.path(), "POS-01");
    let relay = RelayProcess::spawn(&dir.path().join("relay.toml"), None);
    Setup {
        _dir: dir,
        mock,
        gate,
        relay,
        token,
    }
}

/// Starts one authinfo request and returns once the mock has received it (its answer is then
/// held by the gate).
fn request_in_flight(s: &Setup) -> std::thread::JoinHandle<Result<Answer, ureq::Error>> {
    let (url, token) = (s.relay.url.clone(), s.token.clone());
    let h = std::thread::spawn(move || {
        post(
            &agent(),
            &url,
            Some(&token),
            "application/json",
            &body("POS-01", "raw"),
        )
    });
    assert!(
        eventually(Duration::from_secs(20), || s.mock.request_count() == 1),
        "the request never reached the upstream"
    );
    h
}

fn stopped_accepting(s: &Setup) {
    assert!(
        eventually(Duration::from_secs(20), || !s.relay.accepts()),
        "the relay still accepts connections"
    );
}

const READYZ: &str = "GET /readyz HTTP/1.1\r\nHost: relay\r\n\r\n";

#[test]
fn sigterm_drains_the_request_in_flight_then_exits_0() {
    let mut s = setup("drain", 60_000);
    let mut kept = TcpStream::connect(s.relay.addr).unwrap();
    assert_eq!(raw_exchange(&mut kept, READYZ).unwrap().status, 200);
    let in_flight = request_in_flight(&s);

    s.relay.signal("TERM");
    stopped_accepting(&s);
    // A request arriving on a kept-alive connection is still answered: not ready, and closed.
    let r = raw_exchange(&mut kept, READYZ).unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("\"draining\""), "{}", r.body);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(closed_within(&mut kept, Duration::from_secs(20)));
    assert!(
        s.relay.exit_within(Duration::ZERO).is_none(),
        "the relay exited with a request in flight"
    );

    s.gate.open();
    let a = in_flight
        .join()
        .unwrap()
        .expect("the request in flight was dropped");
    assert_eq!(a.status, 200, "{}", a.json);
    assert!(
        a.json["authinfo"]
            .as_str()
            .unwrap()
            .starts_with("MOCKAUTHINFO")
    );
    let status = s.relay.exit_within(Duration::from_secs(20));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{status:?}");
    let log = s.relay.stderr.lock().unwrap().join("\n");
    assert!(log.contains("drained"), "{log}");
}

#[test]
fn a_second_signal_exits_at_once() {
    let mut s = setup("twice", 600_000);
    let in_flight = request_in_flight(&s);
    s.relay.signal("INT");
    stopped_accepting(&s);
    assert!(s.relay.exit_within(Duration::ZERO).is_none());
    s.relay.signal("TERM");
    let status = s.relay.exit_within(Duration::from_secs(20));
    assert_eq!(status.and_then(|s| s.code()), Some(128 + 15), "{status:?}");
    let answer = in_flight.join().unwrap();
    assert!(answer.is_err(), "the request in flight was answered");
}

#[test]
fn the_grace_period_bounds_the_drain() {
    let mut s = setup("grace", 300);
    let in_flight = request_in_flight(&s);
    s.relay.signal("TERM");
    let status = s.relay.exit_within(Duration::from_secs(20));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{status:?}");
    assert!(in_flight.join().unwrap().is_err());
    let log = s.relay.stderr.lock().unwrap().join("\n");
    assert!(log.contains("cut off"), "{log}");
}
