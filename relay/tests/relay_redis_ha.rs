//! Redis that fails over and Redis that scales out, with real processes on loopback: a
//! Sentinel set (master, replica, three sentinels) whose master is killed under load, and a
//! 3-master Redis Cluster shared by two relays. Skipped only when redis-server or redis-cli is
//! absent (`.ci/packages.txt` installs them; sentinels run as `redis-server --sentinel`).

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

use support::*;
use wxface_mock::MockConfig;

fn binaries() -> bool {
    let ok = have("redis-server") && have("redis-cli");
    if !ok {
        eprintln!("SKIP: redis-server or redis-cli is not installed");
    }
    ok
}

/// 50 concurrent requests for `device` spread over `urls`: every answer 200 with one authinfo.
fn fifty(dir: &std::path::Path, urls: &[String], device: &str) {
    let t = token(dir, device);
    let barrier = Arc::new(Barrier::new(50));
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let url = urls[i % urls.len()].clone();
            let t = t.clone();
            let device = device.to_owned();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let agent = agent();
                barrier.wait();
                call(&agent, &url, &t, &body(&device, "raw"))
            })
        })
        .collect();
    let answers: Vec<Answer> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for a in &answers {
        assert_eq!(a.status, 200, "{}", a.json);
        assert_eq!(a.json["authinfo"], answers[0].json["authinfo"]);
    }
}

fn metric_of(agent: &ureq::Agent, url: &str, name: &str) -> f64 {
    let text = get_text(agent, &format!("{url}/metrics")).1;
    metric(&text, name).unwrap_or_else(|| panic!("{name} missing from\n{text}"))
}

#[test]
fn cluster_of_three_masters_two_relays_one_upstream_call() {
    if !binaries() {
        return;
    }
    let dir = TempDir::new("cluster");
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let _nodes: Vec<RedisServer> = ports
        .iter()
        .map(|p| {
            let conf = dir.path().join(format!("nodes-{p}.conf"));
            RedisServer::spawn(
                *p,
                None,
                &[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    conf.to_str().unwrap(),
                    "--dir",
                    dir.path().to_str().unwrap(),
                ],
                "Ready to accept connections",
            )
        })
        .collect();
    let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let mut create = vec!["--cluster", "create"];
    create.extend(addrs.iter().map(String::as_str));
    create.extend(["--cluster-replicas", "0", "--cluster-yes"]);
    let out = redis_cli(ports[0], &create);
    assert!(out.contains("All 16384 slots covered"), "{out}");
    for p in &ports {
        assert!(
            eventually(Duration::from_secs(30), || redis_cli(
                *p,
                &["cluster", "info"]
            )
            .contains("cluster_state:ok")),
            "node {p} never reported cluster_state:ok"
        );
    }

    let mock = mock(MockConfig {
        delay: Duration::from_millis(300),
        ..MockConfig::default()
    });
    let extra = format!(
        "redis_url = \"redis+cluster://{}\"\nredis_timeout_ms = 1000\n\
         rate_limit = {{ requests = 1000, window_secs = 3600 }}\n",
        addrs.join(",")
    );
    let a = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let b = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let urls = [a.url.clone(), b.url.clone()];
    fifty(dir.path(), &urls, "POS-01");
    println!(
        "cluster: 50 calls over 2 relays -> {} upstream request(s)",
        mock.request_count()
    );
    assert_eq!(mock.request_count(), 1, "exactly one upstream request");
    // Several identities land on several masters; each stays on one slot (no CROSSSLOT).
    for d in 2..=9 {
        fifty(dir.path(), &urls, &format!("POS-0{d}"));
    }
    assert_eq!(mock.request_count(), 9);
    let agent = agent();
    for url in &urls {
        assert_eq!(
            metric_of(&agent, url, "wxface_relay_redis_failures_total"),
            0.0
        );
        assert_eq!(metric_of(&agent, url, "wxface_relay_redis_up"), 1.0);
    }
    let keys: Vec<usize> = ports
        .iter()
        .map(|p| redis_cli(*p, &["dbsize"]).trim().parse().unwrap())
        .collect();
    println!("keys per master: {keys:?}");
    assert!(
        keys.iter().filter(|k| **k > 0).count() >= 2,
        "the identities spread over the masters: {keys:?}"
    );
}

#[test]
fn sentinel_failover_under_load_loses_nothing() {
    if !binaries() {
        return;
    }
    let dir = TempDir::new("sentinel");
    let (pm, pr) = (free_port(), free_port());
    let ready = "Ready to accept connections";
    let mut master = RedisServer::spawn(pm, None, &["--repl-diskless-sync-delay", "0"], ready);
    let _replica = RedisServer::spawn(
        pr,
        None,
        &["--replicaof", "127.0.0.1", &pm.to_string()],
        ready,
    );
    assert!(
        eventually(Duration::from_secs(60), || redis_cli(
            pr,
            &["info", "replication"]
        )
        .contains("master_link_status:up")),
        "the replica never synchronised"
    );
    let sentinel_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let _sentinels: Vec<RedisServer> = sentinel_ports
        .iter()
        .map(|p| {
            let conf = dir.path().join(format!("sentinel-{p}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "sentinel monitor mymaster 127.0.0.1 {pm} 2\n\
                     sentinel down-after-milliseconds mymaster 1000\n\
                     sentinel failover-timeout mymaster 3000\n"
                ),
            )
            .unwrap();
            RedisServer::spawn(*p, Some(&conf), &["--sentinel"], "+monitor master")
        })
        .collect();
    // Each sentinel knows the replica and the two other sentinels before the master dies.
    for p in &sentinel_ports {
        assert!(
            eventually(Duration::from_secs(30), || {
                let info = redis_cli(*p, &["sentinel", "master", "mymaster"]);
                let after = |k: &str| {
                    let mut it = info.lines();
                    it.find(|l| l.trim() == k);
                    it.next().map(str::trim).unwrap_or("").to_owned()
                };
                after("num-slaves") == "1" && after("num-other-sentinels") == "2"
            }),
            "sentinel {p} did not discover the set"
        );
    }

    let mock = mock(MockConfig::default());
    let sentinels: Vec<String> = sentinel_ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    let extra = format!(
        "redis_url = \"redis+sentinel://{}/mymaster\"\nredis_timeout_ms = 500\n\
         redis_probe_interval_ms = 200\nrate_limit = {{ requests = 100000, window_secs = 3600 }}\n",
        sentinels.join(",")
    );
    let a = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let b = RunningRelay::start(load_config(dir.path(), &mock.base_url(), &extra));
    let urls = [a.url.clone(), b.url.clone()];
    let agent = agent();
    let t1 = token(dir.path(), "POS-01");
    let first = call(&agent, &a.url, &t1, &body("POS-01", "raw"));
    assert_eq!(first.status, 200, "{}", first.json);
    // Replicated before the master dies (WAIT: one replica acknowledged).
    assert_eq!(redis_cli(pm, &["wait", "1", "5000"]).trim(), "1");

    // Load: four terminals over both relays, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let load: Vec<_> = (2..=5)
        .map(|d| {
            let device = format!("POS-0{d}");
            let t = token(dir.path(), &device);
            let urls = urls.clone();
            let (stop, done, failures) =
                (Arc::clone(&stop), Arc::clone(&done), Arc::clone(&failures));
            thread::spawn(move || {
                let agent = support::agent();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let ans = call(&agent, &urls[i % 2], &t, &body(&device, "raw"));
                    if ans.status != 200 {
                        failures.lock().unwrap().push(ans.json.to_string());
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    assert!(eventually(Duration::from_secs(10), || done
        .load(Ordering::Relaxed)
        >= 40));

    master.kill();
    assert!(
        eventually(Duration::from_secs(60), || redis_cli(
            sentinel_ports[0],
            &["sentinel", "get-master-addr-by-name", "mymaster"]
        )
        .contains(&pr.to_string())),
        "the sentinels did not promote the replica"
    );
    for url in &urls {
        assert!(
            eventually(Duration::from_secs(30), || get_text(
                &agent,
                &format!("{url}/readyz")
            )
            .1
            .contains("\"status\":\"ready\"")),
            "{url} did not reach the new master"
        );
    }
    // Keep the load on the new master a little, then stop it.
    let at = done.load(Ordering::Relaxed);
    assert!(eventually(Duration::from_secs(10), || done
        .load(Ordering::Relaxed)
        >= at + 40));
    stop.store(true, Ordering::Relaxed);
    for h in load {
        h.join().unwrap();
    }
    let total = done.load(Ordering::Relaxed);
    let failures = failures.lock().unwrap();
    let trips: Vec<f64> = urls
        .iter()
        .map(|u| metric_of(&agent, u, "wxface_relay_redis_breaker_trips_total"))
        .collect();
    println!(
        "sentinel failover: {total} requests under load, {} failed; breaker trips {trips:?}",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:?}");

    // Nothing lost: B (which never asked for POS-01) finds it on the new master.
    let again = call(&agent, &b.url, &t1, &body("POS-01", "raw"));
    assert_eq!(again.json["from_cache"], true, "{}", again.json);
    assert_eq!(again.json["authinfo"], first.json["authinfo"]);
    // Single flight holds after the failover.
    let before = mock.request_count();
    fifty(dir.path(), &urls, "POS-09");
    println!(
        "after failover: 50 calls over 2 relays -> {} upstream request(s)",
        mock.request_count() - before
    );
    assert_eq!(mock.request_count() - before, 1);
}
