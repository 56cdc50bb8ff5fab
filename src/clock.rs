//! Time, injected: the cache, the retry loop and the client read the monotonic clock and sleep
//! through a [`Clock`], so their policies can be tested with a manual clock and no real waiting.

use std::sync::Arc;
#[cfg(test)]
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A monotonic clock and a way to wait on it.
pub(crate) trait Clock: Send + Sync {
    /// The current monotonic time.
    fn now(&self) -> Instant;
    /// Waits for `d` (a manual clock just advances).
    fn sleep(&self, d: Duration);
}

/// The real clock: [`Instant::now`] and [`std::thread::sleep`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// The clock a client uses unless a test injects another.
pub(crate) fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// A clock that moves only when told to (or when something sleeps on it). For tests.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct ManualClock {
    start: Instant,
    elapsed: Mutex<Duration>,
    slept: Mutex<Vec<Duration>>,
}

#[cfg(test)]
impl ManualClock {
    pub(crate) fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock {
            start: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
            slept: Mutex::new(Vec::new()),
        })
    }

    /// Moves the clock forward by `d`.
    pub(crate) fn advance(&self, d: Duration) {
        *self.elapsed.lock().unwrap_or_else(PoisonError::into_inner) += d;
    }

    /// Every wait requested so far, in order.
    pub(crate) fn sleeps(&self) -> Vec<Duration> {
        self.slept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.elapsed.lock().unwrap_or_else(PoisonError::into_inner)
    }
    fn sleep(&self, d: Duration) {
        self.slept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(d);
        self.advance(d);
    }
}
