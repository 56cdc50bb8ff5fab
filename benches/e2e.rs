//! End to end over loopback, cache off: calls per second from 1 and 4 threads sharing one
//! client (each thread its own device, so no call waits for another's), then startup: client
//! creation and the first call over TLS (a fresh client: TCP + TLS handshake) against a reused
//! TLS connection. Prints `name value unit` lines that `scripts/bench.sh` reads.
//!
//! `WXFACE_BENCH_URL` points the throughput runs at a mock started outside (so the peers'
//! scripts meet the same server); without it an in-process mock is used.
//! `WXFACE_BENCH_SECS` (default 3) is the length of each throughput run.

mod common;

use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wxface::{ApiKey, AuthinfoRequest, Client, Config, SignType};
use wxface_mock::{MockConfig, MockServer, TestCa};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn request(device: usize) -> AuthinfoRequest {
    AuthinfoRequest::new(
        common::STORE_ID,
        common::STORE_NAME,
        format!("POS-{device:02}"),
        common::rawdata(),
    )
}

fn throughput(url: &str, threads: usize, secs: f64) -> f64 {
    let client = Client::new(common::config(SignType::HmacSha256, Some(url), false)).unwrap();
    client.get_authinfo(&request(0)).unwrap();
    let calls = AtomicU64::new(0);
    let barrier = Barrier::new(threads + 1);
    let run = Duration::from_secs_f64(secs);
    let elapsed = std::thread::scope(|s| {
        for t in 0..threads {
            let (client, calls, barrier) = (&client, &calls, &barrier);
            s.spawn(move || {
                let req = request(t);
                barrier.wait();
                let start = Instant::now();
                let mut n = 0;
                while start.elapsed() < run {
                    client.get_authinfo(&req).expect("a call against the mock");
                    n += 1;
                }
                calls.fetch_add(n, Ordering::Relaxed);
            });
        }
        barrier.wait();
        let start = Instant::now();
        // The scope joins the workers before returning.
        start
    });
    let total = calls.load(Ordering::Relaxed) as f64;
    total / elapsed.elapsed().as_secs_f64()
}

fn tls_config(url: &str, ca_pem: &str) -> Config {
    Config::builder(
        common::MCH_ID,
        common::APPID,
        ApiKey::new(common::KEY).unwrap(),
    )
    .base_url(url)
    .cache(false)
    .ca_pem(ca_pem.as_bytes().to_vec())
    .build()
    .unwrap()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and friends
    }
    let secs: f64 = std::env::var("WXFACE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let local;
    let url = match std::env::var("WXFACE_BENCH_URL") {
        Ok(url) => url,
        Err(_) => {
            local = MockServer::start(MockConfig::default()).unwrap();
            local.base_url()
        }
    };
    for threads in [1, 4] {
        let rate = throughput(&url, threads, secs);
        println!("e2e/threads={threads} {rate:.0} calls/s");
    }

    let ca = TestCa::new().unwrap();
    let tls = MockServer::start(MockConfig {
        tls: Some(ca.server_identity(&["127.0.0.1", "localhost"]).unwrap()),
        ..MockConfig::default()
    })
    .unwrap();
    let tls_url = tls.base_url();
    let ca_pem = ca.ca_pem();
    let bundled = || {
        Config::builder(
            common::MCH_ID,
            common::APPID,
            ApiKey::new(common::KEY).unwrap(),
        )
        .build()
        .unwrap()
    };
    let time =
        |n: usize, mut f: Box<dyn FnMut() -> Duration + '_>| median((0..n).map(|_| f()).collect());
    let create_bundled = time(
        21,
        Box::new(|| {
            let config = bundled();
            let start = Instant::now();
            let client = Client::new(config).unwrap();
            let d = start.elapsed();
            drop(client);
            d
        }),
    );
    let create_custom = time(
        21,
        Box::new(|| {
            let config = tls_config(&tls_url, &ca_pem);
            let start = Instant::now();
            let client = Client::new(config).unwrap();
            let d = start.elapsed();
            drop(client);
            d
        }),
    );
    let req = request(0);
    let first_tls = time(
        11,
        Box::new(|| {
            let client = Client::new(tls_config(&tls_url, &ca_pem)).unwrap();
            let start = Instant::now();
            client.get_authinfo(&req).unwrap();
            start.elapsed()
        }),
    );
    let client = Client::new(tls_config(&tls_url, &ca_pem)).unwrap();
    client.get_authinfo(&req).unwrap();
    let reused_tls = time(
        51,
        Box::new(|| {
            let start = Instant::now();
            client.get_authinfo(&req).unwrap();
            start.elapsed()
        }),
    );
    println!("startup/client_new_bundled {:.1} us", us(create_bundled));
    println!(
        "startup/client_new_bundled_plus_ca {:.1} us",
        us(create_custom)
    );
    println!("startup/first_call_tls {:.1} us", us(first_tls));
    println!("startup/reused_call_tls {:.1} us", us(reused_tls));
}
