//! Load check of the relay (a benchmark, not a test): `make relay-bench`.
//!
//! Starts the mock payapp server, then one relay (state in memory) and two relays sharing a
//! redis-server on a free loopback port, and drives each setup with TERMINALS concurrent
//! terminals (one device id, one bearer token and one keep-alive connection each) for a bounded
//! number of requests: cache hits (after one warm-up call per terminal) and calls reaching the
//! mock (`force_refresh`). Prints requests/s and p50/p99 latency per case.
//!
//! Then the Redis outage case: redis-server is paused (SIGSTOP), one round of requests meets the
//! failure (each instance's first requests wait out `redis_timeout_ms`), and the next
//! WXFACE_BENCH_OUTAGE requests per terminal show what an outage costs afterwards.
//!
//! Environment: WXFACE_BENCH_TERMINALS (default 32), WXFACE_BENCH_HITS (requests per terminal,
//! default 200), WXFACE_BENCH_UPSTREAM (default 25), WXFACE_BENCH_OUTAGE (default 20).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use wxface_mock::{MockConfig, MockServer};
use wxface_relay::{Relay, RelayConfig};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(dir: &std::path::Path, mock: &str, terminals: usize, redis: Option<&str>) -> RelayConfig {
    let mut text = format!(
        "listen = \"127.0.0.1:0\"\ntokens_file = \"tokens\"\naudit_log = \"audit.log\"\n{}\n\
         [[merchant]]\nname = \"hq\"\nmch_id = \"1900000109\"\nappid = \"wx2421b1c4370ec43b\"\n\
         key = \"{}\"\nbase_url = \"{mock}\"\n",
        redis
            .map(|u| format!("redis_url = \"{u}\""))
            .unwrap_or_default(),
        wxface_mock::DEFAULT_KEY
    );
    for i in 0..terminals {
        text.push_str(&format!(
            "[[device]]\nid = \"T{i:04}\"\nmerchant = \"hq\"\n"
        ));
    }
    RelayConfig::parse(&text, dir).unwrap()
}

/// CPU time used so far by this process's threads whose name starts with `prefix`.
fn cpu_of(prefix: &str) -> Duration {
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        if let Some((_, rest)) = stat.rsplit_once(')') {
            let f: Vec<&str> = rest.split_whitespace().collect();
            ticks += f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
        }
    }
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

struct Stats {
    rps: f64,
    cores: f64,
    p50_ms: f64,
    p99_ms: f64,
    n: usize,
}

/// `terminals` threads, each `per` requests to `urls[i % urls.len()]`.
fn drive(urls: &[String], tokens: &[String], per: usize, force: bool) -> Stats {
    let terminals = tokens.len();
    let barrier = Arc::new(Barrier::new(terminals + 1));
    let handles: Vec<_> = (0..terminals)
        .map(|i| {
            let url = format!("{}/v1/authinfo", urls[i % urls.len()]);
            let token = tokens[i].clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .new_agent();
                let body = format!(
                    "{{\"store_id\":\"1001\",\"store_name\":\"bench\",\"device_id\":\"T{i:04}\",\"rawdata\":\"raw\",\"force_refresh\":{force}}}"
                );
                let mut lat = Vec::with_capacity(per);
                barrier.wait();
                for _ in 0..per {
                    let t = Instant::now();
                    let mut resp = agent
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .header("Authorization", &format!("Bearer {token}"))
                        .send(body.as_bytes())
                        .unwrap();
                    let status = resp.status().as_u16();
                    let _ = resp.body_mut().read_to_vec().unwrap();
                    assert_eq!(status, 200, "the relay answered {status}");
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let cpu_start = cpu_of("relay");
    let mut all: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let elapsed = start.elapsed();
    let cores = (cpu_of("relay") - cpu_start).as_secs_f64() / elapsed.as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        let idx = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[idx].as_secs_f64() * 1e3
    };
    Stats {
        rps: all.len() as f64 / elapsed.as_secs_f64(),
        cores,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        n: all.len(),
    }
}

fn report(case: &str, s: &Stats) {
    println!(
        "{case:<44} {:>6} req  {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  relay CPU {:>4.2} cores  {:>8.0} req/s per core",
        s.n,
        s.rps,
        s.p50_ms,
        s.p99_ms,
        s.cores,
        s.rps / s.cores.max(0.01)
    );
}

fn main() {
    let terminals = env_usize("WXFACE_BENCH_TERMINALS", 32);
    let hits = env_usize("WXFACE_BENCH_HITS", 200);
    let upstream = env_usize("WXFACE_BENCH_UPSTREAM", 25);
    let outage = env_usize("WXFACE_BENCH_OUTAGE", 20);
    let dir = std::env::temp_dir().join(format!("wxface-relay-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mock = MockServer::start(MockConfig::default()).unwrap();
    let tokens: Vec<String> = (0..terminals)
        .map(|i| {
            wxface_relay::tokens::add(&dir.join("tokens"), &format!("T{i:04}"))
                .unwrap()
                .to_string()
        })
        .collect();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--logfile",
            "",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("redis-server is installed");
    let mut lines = BufReader::new(redis.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("Ready to accept connections") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let redis_url = format!("redis://127.0.0.1:{port}/0");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("relay")
        .enable_all()
        .build()
        .unwrap();
    println!(
        "wxface-relay load check: {terminals} terminals, {hits} cache-hit and {upstream} upstream requests each, loopback, mock upstream"
    );
    let one = rt
        .block_on(Relay::start(config(
            &dir,
            &mock.base_url(),
            terminals,
            None,
        )))
        .unwrap();
    let urls = vec![one.base_url()];
    drive(&urls, &tokens, 1, false);
    report(
        "1 instance (memory): cache hits",
        &drive(&urls, &tokens, hits, false),
    );
    let before = mock.request_count();
    report(
        "1 instance (memory): calls reaching the mock",
        &drive(&urls, &tokens, upstream, true),
    );
    assert_eq!(mock.request_count() - before, terminals * upstream);
    rt.block_on(one.stop());

    let a = rt
        .block_on(Relay::start(config(
            &dir,
            &mock.base_url(),
            terminals,
            Some(&redis_url),
        )))
        .unwrap();
    let b = rt
        .block_on(Relay::start(config(
            &dir,
            &mock.base_url(),
            terminals,
            Some(&redis_url),
        )))
        .unwrap();
    let urls = vec![a.base_url(), b.base_url()];
    drive(&urls, &tokens, 1, false);
    report(
        "2 instances (Redis): cache hits",
        &drive(&urls, &tokens, hits, false),
    );
    let before = mock.request_count();
    report(
        "2 instances (Redis): calls reaching the mock",
        &drive(&urls, &tokens, upstream, true),
    );
    assert_eq!(mock.request_count() - before, terminals * upstream);
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &redis.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} redis-server");
    };
    signal("-STOP");
    report(
        "2 instances (Redis paused): first requests",
        &drive(&urls, &tokens, 1, false),
    );
    report(
        "2 instances (Redis paused): cache hits after",
        &drive(&urls, &tokens, outage, false),
    );
    signal("-CONT");
    rt.block_on(a.stop());
    rt.block_on(b.stop());
    let _ = redis.kill();
    let _ = redis.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
