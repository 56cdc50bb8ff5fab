//! The retry policy: how long to wait before another attempt (which failures are worth one is
//! [`Error::is_transient`]), and [`run`], which drives an attempt closure across base URLs
//! until success, a final failure, the retry budget or the deadline, sleeping on the injected
//! [`Clock`].

use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::config::RetryPolicy;
use crate::error::{Error, Result};

/// Whether WeChat refused the request's `now` (`PARAM_ERROR 非法的Now参数`).
pub(crate) fn is_bad_now(e: &Error) -> bool {
    matches!(e, Error::Remote { return_code, return_msg }
        if return_code == "PARAM_ERROR" && return_msg.contains("Now"))
}

/// The wait before retry number `n` (1-based): drawn uniformly from `[b/2, b]` with
/// `b = min(initial * 2^(n-1), max)`.
pub(crate) fn backoff(policy: &RetryPolicy, n: u32) -> Duration {
    let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
    let nominal = policy
        .initial_backoff
        .checked_mul(factor)
        .unwrap_or(policy.max_backoff)
        .min(policy.max_backoff);
    let mut bytes = [0u8; 4];
    // Jitter only; a failing random source just means no jitter.
    let r = match getrandom::fill(&mut bytes) {
        Ok(()) => u32::from_le_bytes(bytes),
        Err(_) => u32::MAX,
    };
    let half = nominal / 2;
    half + (nominal - half).mul_f64(f64::from(r) / f64::from(u32::MAX))
}

/// Where and how long one attempt may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Attempt {
    /// 1-based number of this attempt within the call.
    pub number: u32,
    /// Index of the target (base URL) to use.
    pub target: usize,
    /// Time the attempt may take: the per-attempt timeout, cut to what is left of the deadline.
    pub timeout: Duration,
}

/// What [`run`] reports as it goes (for logging).
#[derive(Debug)]
pub(crate) enum Event<'a> {
    /// Attempt `failed` failed with `error`; retry number `retry` goes to `target` after `wait`.
    Retry {
        failed: u32,
        error: &'a Error,
        retry: u32,
        target: usize,
        wait: Duration,
    },
    /// The call gives up after `attempts` attempts with `error`; `no_time_left` when a retry
    /// was allowed but its wait would end after the deadline.
    GaveUp {
        attempts: u32,
        error: &'a Error,
        no_time_left: bool,
    },
}

/// The retry plan of one call.
pub(crate) struct Plan<'a> {
    pub policy: RetryPolicy,
    pub clock: &'a dyn Clock,
    pub deadline: Instant,
    pub attempt_timeout: Option<Duration>,
    /// Number of targets, tried in turn after a transient failure (at least 1).
    pub targets: usize,
    /// The target of the first attempt.
    pub first: usize,
}

/// Runs `attempt` until it succeeds, fails for good, the retries are used up or the deadline
/// passes. After a transient failure the next target is tried at once if this call has not
/// tried it yet, else after [`backoff`]; a wait that would end after the deadline is not
/// started. Returns the value and the target that produced it.
pub(crate) fn run<T>(
    plan: &Plan<'_>,
    mut attempt: impl FnMut(&Attempt) -> Result<T>,
    mut on_event: impl FnMut(Event<'_>),
) -> Result<(T, usize)> {
    let n = plan.targets.max(1);
    let mut target = plan.first % n;
    let mut tried = vec![false; n];
    let mut retries = 0u32;
    let mut number = 0u32;
    loop {
        let left = plan.deadline.saturating_duration_since(plan.clock.now());
        if left.is_zero() {
            return Err(Error::Timeout("the call's overall timeout expired".into()));
        }
        number += 1;
        tried[target] = true;
        let a = Attempt {
            number,
            target,
            timeout: plan.attempt_timeout.map_or(left, |t| t.min(left)),
        };
        let error = match attempt(&a) {
            Ok(v) => return Ok((v, target)),
            Err(e) => e,
        };
        if !error.is_transient() || retries >= plan.policy.max_retries {
            on_event(Event::GaveUp {
                attempts: number,
                error: &error,
                no_time_left: false,
            });
            return Err(error);
        }
        retries += 1;
        target = (target + 1) % n;
        let wait = if tried[target] {
            backoff(&plan.policy, retries)
        } else {
            Duration::ZERO
        };
        if wait >= plan.deadline.saturating_duration_since(plan.clock.now()) {
            on_event(Event::GaveUp {
                attempts: number,
                error: &error,
                no_time_left: true,
            });
            return Err(error);
        }
        on_event(Event::Retry {
            failed: number,
            error: &error,
            retry: retries,
            target,
            wait,
        });
        if !wait.is_zero() {
            plan.clock.sleep(wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn classification() {
        assert!(Error::Network("x".into()).is_transient());
        assert!(Error::Timeout("x".into()).is_transient());
        assert!(Error::HttpStatus(502).is_transient());
        assert!(!Error::HttpStatus(404).is_transient());
        assert!(!Error::Tls("x".into()).is_transient());
        assert!(!Error::Signature("x".into()).is_transient());
        assert!(!Error::invalid("store_id", "x").is_transient());
        let remote = |c: &str, m: &str| Error::Remote {
            return_code: c.into(),
            return_msg: m.into(),
        };
        assert!(remote("SYSTEMERROR", "生成authinfo失败").is_transient());
        assert!(!remote("PARAM_ERROR", "签名错误").is_transient());
        assert!(!remote("ERROR", "无效的RawData数据").is_transient());
        assert!(is_bad_now(&remote("PARAM_ERROR", "非法的Now参数")));
        assert!(!is_bad_now(&remote("PARAM_ERROR", "签名错误")));
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        for _ in 0..50 {
            let b1 = backoff(&p, 1);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b2 = backoff(&p, 2);
            assert!(b2 >= Duration::from_millis(100) && b2 <= Duration::from_millis(200));
            let b9 = backoff(&p, 40);
            assert!(b9 >= Duration::from_millis(175) && b9 <= Duration::from_millis(350));
        }
    }

    fn policy(max_retries: u32) -> RetryPolicy {
        RetryPolicy {
            max_retries,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
        }
    }

    fn plan(
        clock: &ManualClock,
        policy: RetryPolicy,
        timeout: Duration,
        targets: usize,
    ) -> Plan<'_> {
        Plan {
            policy,
            clock,
            deadline: clock.now() + timeout,
            attempt_timeout: None,
            targets,
            first: 0,
        }
    }

    const T: Duration = Duration::from_secs(60);

    #[test]
    fn succeeds_after_transient_failures_with_bounded_backoffs() {
        let clock = ManualClock::new();
        let mut calls = 0;
        let (v, target) = run(
            &plan(&clock, policy(5), T, 1),
            |a| {
                calls += 1;
                assert_eq!(a.number, calls);
                assert_eq!(a.target, 0);
                if calls < 4 {
                    Err(Error::HttpStatus(503))
                } else {
                    Ok("ok")
                }
            },
            |_| {},
        )
        .unwrap();
        assert_eq!((v, target, calls), ("ok", 0, 4));
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 3);
        let bounds = [(50, 100), (100, 200), (150, 300)];
        for (s, (lo, hi)) in sleeps.iter().zip(bounds) {
            assert!(
                *s >= Duration::from_millis(lo) && *s <= Duration::from_millis(hi),
                "{sleeps:?}"
            );
        }
    }

    #[test]
    fn the_retry_budget_bounds_the_attempts() {
        for max in [0, 1, 3] {
            let clock = ManualClock::new();
            let mut calls = 0u32;
            let mut gave_up = None;
            let err = run(
                &plan(&clock, policy(max), T, 1),
                |_| -> Result<()> {
                    calls += 1;
                    Err(Error::Network("refused".into()))
                },
                |e| {
                    if let Event::GaveUp {
                        attempts,
                        no_time_left,
                        ..
                    } = e
                    {
                        gave_up = Some((attempts, no_time_left));
                    }
                },
            )
            .unwrap_err();
            assert_eq!(err, Error::Network("refused".into()));
            assert_eq!(calls, max + 1);
            assert_eq!(gave_up, Some((max + 1, false)));
        }
    }

    #[test]
    fn final_failures_are_not_retried() {
        let clock = ManualClock::new();
        let mut calls = 0;
        let err = run(
            &plan(&clock, policy(5), T, 2),
            |_| -> Result<()> {
                calls += 1;
                Err(Error::Tls("bad certificate".into()))
            },
            |_| {},
        )
        .unwrap_err();
        assert!(matches!(err, Error::Tls(_)));
        assert_eq!(calls, 1);
        assert!(clock.sleeps().is_empty());
    }

    #[test]
    fn no_wait_is_started_that_would_end_after_the_deadline() {
        let clock = ManualClock::new();
        // Each attempt takes 200 ms of the 1 s deadline (or its whole timeout when less is
        // left, as a real attempt would); backoffs are 100..300 ms.
        let start = clock.now();
        let mut calls = 0;
        let mut no_time = false;
        let err = run(
            &plan(&clock, policy(50), Duration::from_secs(1), 1),
            |a| -> Result<()> {
                calls += 1;
                assert!(a.timeout <= Duration::from_secs(1));
                clock.advance(Duration::from_millis(200).min(a.timeout));
                Err(Error::HttpStatus(500))
            },
            |e| {
                if let Event::GaveUp { no_time_left, .. } = e {
                    no_time = no_time_left;
                }
            },
        )
        .unwrap_err();
        assert_eq!(err, Error::HttpStatus(500));
        assert!(no_time, "gave up for lack of time, not retries");
        assert!((2..=4).contains(&calls), "{calls} attempts");
        let spent = clock.now() - start;
        assert!(spent <= Duration::from_secs(1), "{spent:?}");
    }

    #[test]
    fn attempts_get_the_attempt_timeout_cut_to_the_deadline() {
        let clock = ManualClock::new();
        let mut p = plan(&clock, policy(5), Duration::from_millis(1000), 1);
        p.attempt_timeout = Some(Duration::from_millis(300));
        let mut timeouts = Vec::new();
        let _ = run(
            &p,
            |a| -> Result<()> {
                timeouts.push(a.timeout);
                clock.advance(a.timeout);
                Err(Error::Timeout("x".into()))
            },
            |_| {},
        );
        assert_eq!(timeouts[..2], [Duration::from_millis(300); 2]);
        let total = clock.sleeps().iter().sum::<Duration>() + timeouts.iter().sum::<Duration>();
        assert!(
            total <= Duration::from_millis(1000),
            "{timeouts:?} {:?}",
            clock.sleeps()
        );
        // The third attempt starts 750..900 ms in: only the rest of the deadline is left.
        assert_eq!(timeouts.len(), 3, "{timeouts:?}");
        assert!(timeouts[2] < Duration::from_millis(300), "{timeouts:?}");
    }

    #[test]
    fn an_expired_deadline_sends_nothing() {
        let clock = ManualClock::new();
        let p = plan(&clock, policy(5), Duration::ZERO, 1);
        let mut calls = 0;
        let err = run(
            &p,
            |_| -> Result<()> {
                calls += 1;
                Ok(())
            },
            |_| {},
        )
        .unwrap_err();
        assert!(matches!(err, Error::Timeout(_)));
        assert_eq!(calls, 0);
    }

    #[test]
    fn failover_goes_to_untried_targets_at_once_then_backs_off() {
        let clock = ManualClock::new();
        let mut p = plan(&clock, policy(4), T, 3);
        p.first = 1;
        let mut order = Vec::new();
        let mut waits = Vec::new();
        let err = run(
            &p,
            |a| -> Result<()> {
                order.push(a.target);
                Err(Error::Network("down".into()))
            },
            |e| {
                if let Event::Retry { wait, .. } = e {
                    waits.push(wait);
                }
            },
        )
        .unwrap_err();
        assert!(matches!(err, Error::Network(_)));
        assert_eq!(order, [1, 2, 0, 1, 2]);
        assert_eq!(waits[..2], [Duration::ZERO, Duration::ZERO]);
        assert!(waits[2..].iter().all(|w| !w.is_zero()), "{waits:?}");
        assert_eq!(clock.sleeps().len(), 2);
        // Success on the second target reports it.
        let clock = ManualClock::new();
        let p = plan(&clock, policy(4), T, 2);
        let (_, target) = run(
            &p,
            |a| {
                if a.target == 0 {
                    Err(Error::HttpStatus(502))
                } else {
                    Ok(())
                }
            },
            |_| {},
        )
        .unwrap();
        assert_eq!(target, 1);
    }
}
