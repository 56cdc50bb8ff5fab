//! Connection reuse under concurrency: N threads × M calls on one client open at most N TCP
//! connections (the mock counts the connections it accepts). Counts, not time.

use std::sync::Barrier;

use wxface::{ApiKey, AuthinfoRequest, Client, Config};
use wxface_mock::{DEFAULT_KEY, MockConfig, MockServer};

const CALLS_PER_THREAD: usize = 150;

/// Runs `threads` × [`CALLS_PER_THREAD`] calls (cache off, one device per thread, all threads
/// released together), then checks that every call reached the mock over at most `threads`
/// TCP connections.
fn calls_use_at_most_a_connection_per_thread(server: &MockServer, client: &Client, threads: usize) {
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        for t in 0..threads {
            let barrier = &barrier;
            s.spawn(move || {
                let request =
                    AuthinfoRequest::new("1001", "深圳南山科技园店", format!("POS-{t:02}"), "raw");
                barrier.wait();
                for _ in 0..CALLS_PER_THREAD {
                    client
                        .get_authinfo(&request)
                        .expect("a call against the mock");
                }
            });
        }
    });
    assert_eq!(server.request_count(), threads * CALLS_PER_THREAD);
    let opened = server.connections_accepted();
    assert!(
        opened <= threads as u64,
        "{opened} TCP connections for {threads} threads × {CALLS_PER_THREAD} calls"
    );
}

fn config(server: &MockServer) -> wxface::ConfigBuilder {
    Config::builder(
        "1900000109",
        "wx2421b1c4370ec43b",
        ApiKey::new(DEFAULT_KEY).unwrap(),
    )
    .base_url(server.base_url())
    .cache(false)
}

#[test]
fn four_threads_share_at_most_four_connections_by_default() {
    let server = MockServer::start(MockConfig::default()).unwrap();
    let client = Client::new(config(&server).build().unwrap()).unwrap();
    let threads = 4;
    calls_use_at_most_a_connection_per_thread(&server, &client, threads);
}

#[test]
fn more_threads_than_the_default_need_the_option() {
    let server = MockServer::start(MockConfig::default()).unwrap();
    let threads = 12;
    let client = Client::new(
        config(&server)
            .max_idle_connections(threads as u32)
            .build()
            .unwrap(),
    )
    .unwrap();
    calls_use_at_most_a_connection_per_thread(&server, &client, threads);
}
