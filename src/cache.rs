//! The per-client authinfo cache policy: one slot per identity, get-or-refresh with
//! single-flight (concurrent callers for one identity share one refresh, its success or its
//! failure), serve-stale (a failed refresh falls back to a still-valid entry), and
//! refresh-ahead (an entry is refreshed once its remaining validity is within the margin).
//! Expiry is measured on the injected monotonic [`Clock`].
//!
//! A hit takes no exclusive lock and writes no memory another thread's hit writes: the map is
//! replicated in [`SHARDS`] read-write-locked copies, each on its own cache lines, and a thread
//! reads the copy its index picks. In each copy an identity's current entry is published as
//! that copy's own `Arc` (of a cheap-to-clone value: the client's is itself an `Arc`), so a hit
//! is a read lock, a lookup, a freshness check and a reference-count increment, all on lines
//! that other threads' hits do not touch (threads beyond [`SHARDS`] share copies). Writers
//! (a new identity, a new entry, a clear) are rare and update every copy. Refreshes, waiting
//! and the refresh bookkeeping use the identity's own mutex, as before; the published entry
//! only changes while that mutex is held.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use crate::clock::Clock;
use crate::config::CacheOptions;
use crate::error::Error;

/// Copies of the map, so concurrent hits on different threads do not contend for one lock.
pub(crate) const SHARDS: usize = 8;

/// A value obtained by a refresh and when it stops being valid. Aligned to 128 bytes so that the
/// reference count of each copy's `Arc` has its cache lines to itself.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct Fetched<V> {
    pub value: V,
    /// When the request that obtained it was sent.
    pub obtained_at: Instant,
    /// When it expires (`obtained_at + expires_in`).
    pub expires_at: Instant,
}

/// Where a value handed out by [`Cache::get_or_refresh`] came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// This call ran the refresh.
    Refreshed,
    /// A cached entry, or one a concurrent call for the same identity just obtained.
    Cached,
    /// The refresh failed (with this error) and the cached entry, still valid, was served.
    Stale(Error),
}

/// An entry, shared with the cache (no copy of the value), and where it came from. Derefs to
/// the entry, so `served.value` and `served.expires_at` read it.
#[derive(Debug)]
pub(crate) struct Served<V> {
    pub entry: Arc<Fetched<V>>,
    pub origin: Origin,
}

impl<V> std::ops::Deref for Served<V> {
    type Target = Fetched<V>;
    fn deref(&self) -> &Fetched<V> {
        &self.entry
    }
}

/// Whether the refresh replaces an entry (`Due`) or fills an empty slot (`Miss`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refresh {
    Miss,
    Due,
}

/// The refresh bookkeeping of one identity, under its mutex.
struct SlotState<V> {
    /// The current entry (the same `Arc` the map publishes while this slot is in the map).
    entry: Option<Arc<Fetched<V>>>,
    /// Generation of the refresh in flight, if any.
    in_flight: Option<u64>,
    /// Generations handed out so far.
    generation: u64,
    /// The failure of the last finished refresh, with its generation.
    last_error: Option<(u64, Error)>,
}

struct Slot<V> {
    state: Mutex<SlotState<V>>,
    done: Condvar,
}

impl<V> Slot<V> {
    fn lock(&self) -> MutexGuard<'_, SlotState<V>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the map holds for one identity: its slot and the entry hits read.
struct Published<V> {
    slot: Arc<Slot<V>>,
    entry: Option<Arc<Fetched<V>>>,
}

/// One copy of the map, on cache lines of its own.
#[repr(align(128))]
struct Shard<V>(RwLock<HashMap<String, Published<V>>>);

impl<V> Shard<V> {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Published<V>>> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Published<V>>> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Hands each thread its shard index, round robin in order of first use.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static MY_SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

/// Identity → slot and published entry, in [`SHARDS`] identical copies. Write locks are held
/// only to add or clear slots and to publish a new entry, never across a refresh; a slot's
/// lock is never held across a refresh either. Writers hold `writers` while they update the
/// copies one after the other. Lock order: a slot's mutex, `writers`, then the copies.
pub(crate) struct Cache<V> {
    shards: Box<[Shard<V>]>,
    writers: Mutex<()>,
    options: CacheOptions,
    clock: Arc<dyn Clock>,
}

impl<V: Clone> Cache<V> {
    pub(crate) fn new(options: CacheOptions, clock: Arc<dyn Clock>) -> Self {
        Cache {
            shards: (0..SHARDS)
                .map(|_| Shard(RwLock::new(HashMap::new())))
                .collect(),
            writers: Mutex::new(()),
            options,
            clock,
        }
    }

    /// The copy this thread reads.
    fn my_shard(&self) -> &Shard<V> {
        let i = MY_SHARD.try_with(|i| *i).unwrap_or(0);
        &self.shards[i % self.shards.len()]
    }

    fn write_lock(&self) -> MutexGuard<'_, ()> {
        self.writers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached value for `key` while it is fresh (unless `force`); otherwise runs `refresh`
    /// (at most one at a time per key: concurrent callers wait for it until `deadline` and share
    /// its outcome). A failed refresh serves the cached value while it is still valid, as
    /// [`Origin::Stale`]; once expired, the failure is returned. `on_wait` is called (with no
    /// lock held) when this call starts waiting for a concurrent refresh. `started` is when the
    /// call started, on the cache's clock (the caller has read it already).
    pub(crate) fn get_or_refresh(
        &self,
        key: &str,
        force: bool,
        started: Instant,
        deadline: Instant,
        refresh: impl FnOnce(Refresh) -> Result<Fetched<V>, Error>,
        on_wait: impl Fn(),
    ) -> Result<Served<V>, Error> {
        // A hit: this thread's copy of the map, read-locked; no copy of the value.
        let slot = {
            let slots = self.my_shard().read();
            match slots.get(key) {
                Some(p) => {
                    if let Some(entry) = &p.entry
                        && !force
                        && self.is_fresh(entry, started)
                    {
                        return Ok(served(entry, Origin::Cached));
                    }
                    Arc::clone(&p.slot)
                }
                None => {
                    drop(slots);
                    self.slot(key)
                }
            }
        };
        let mut state = slot.lock();
        // The refresh this call waited for, if any: its outcome is ours too.
        let mut waited_for: Option<u64> = None;
        loop {
            let now = self.clock.now();
            if let (Some(g), Some((eg, err))) = (waited_for, &state.last_error)
                && *eg == g
                && state.in_flight.is_none()
            {
                let err = err.clone();
                return self.stale_or(&state.entry, err);
            }
            if let Some(entry) = &state.entry {
                // An entry obtained after this call started came from a concurrent refresh:
                // use it even when forced.
                let shared = waited_for.is_some() || entry.obtained_at >= started;
                if (self.is_fresh(entry, now) && !force) || (shared && now < entry.expires_at) {
                    return Ok(served(entry, Origin::Cached));
                }
            }
            let Some(g) = state.in_flight else { break };
            if waited_for != Some(g) {
                waited_for = Some(g);
                // Tell the caller without holding the slot's lock (its logger may call back),
                // then look again: the refresh may have finished meanwhile.
                drop(state);
                on_wait();
                state = slot.lock();
                continue;
            }
            let left = deadline.saturating_duration_since(now);
            if left.is_zero() {
                let err = Error::Timeout(
                    "the timeout expired while waiting for a concurrent refresh".into(),
                );
                return self.stale_or(&state.entry, err);
            }
            state = slot
                .done
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        // This call refreshes; others for the same key wait for it.
        state.generation += 1;
        let generation = state.generation;
        state.in_flight = Some(generation);
        let kind = if state.entry.is_some() {
            Refresh::Due
        } else {
            Refresh::Miss
        };
        drop(state);
        let guard = FlightGuard {
            slot: &slot,
            generation,
        };
        let outcome = refresh(kind);
        let mut state = slot.lock();
        let result = match outcome {
            Ok(fetched) => {
                let entry = Arc::new(fetched);
                self.publish(key, &slot, &entry);
                state.entry = Some(Arc::clone(&entry));
                state.last_error = None;
                Ok(Served {
                    entry,
                    origin: Origin::Refreshed,
                })
            }
            Err(err) => {
                state.last_error = Some((generation, err.clone()));
                self.stale_or(&state.entry, err)
            }
        };
        drop(state);
        drop(guard);
        result
    }

    /// Forgets every entry. A refresh in flight finishes but its result is not kept.
    pub(crate) fn clear(&self) {
        let writers = self.write_lock();
        for shard in &self.shards {
            // Taken out first and dropped after the lock is released: dropping the last
            // reference to an entry wipes it, which need not block readers.
            let old = std::mem::take(&mut *shard.write());
            drop(old);
        }
        drop(writers);
    }

    /// How many keys have an entry (fresh, due or expired).
    pub(crate) fn len(&self) -> usize {
        let slots = self.shards[0].read();
        slots.values().filter(|p| p.entry.is_some()).count()
    }

    /// The slot of `key`, added to every copy of the map if it has none.
    fn slot(&self, key: &str) -> Arc<Slot<V>> {
        let writers = self.write_lock();
        if let Some(p) = self.shards[0].read().get(key) {
            return Arc::clone(&p.slot);
        }
        let slot = Arc::new(Slot {
            state: Mutex::new(SlotState {
                entry: None,
                in_flight: None,
                generation: 0,
                last_error: None,
            }),
            done: Condvar::new(),
        });
        for shard in &self.shards {
            shard.write().insert(
                key.to_owned(),
                Published {
                    slot: Arc::clone(&slot),
                    entry: None,
                },
            );
        }
        drop(writers);
        slot
    }

    /// Makes `entry` what hits on `key` read (each copy of the map gets its own `Arc` of a
    /// clone of the value), unless the map no longer holds `slot` (cleared meanwhile: the
    /// result is not kept). Called with the slot's mutex held.
    fn publish(&self, key: &str, slot: &Arc<Slot<V>>, entry: &Arc<Fetched<V>>) {
        let writers = self.write_lock();
        let mut replaced = Vec::with_capacity(self.shards.len());
        for shard in &self.shards {
            let copy = Arc::new(Fetched {
                value: entry.value.clone(),
                obtained_at: entry.obtained_at,
                expires_at: entry.expires_at,
            });
            if let Some(p) = shard.write().get_mut(key)
                && Arc::ptr_eq(&p.slot, slot)
            {
                replaced.push(p.entry.replace(copy));
            }
        }
        drop(writers);
        // The previous entries are dropped (and, once no caller holds them, wiped) outside
        // the locks.
        drop(replaced);
    }

    /// Fresh while the remaining validity is above the refresh margin.
    fn is_fresh(&self, entry: &Fetched<V>, now: Instant) -> bool {
        let validity = entry
            .expires_at
            .saturating_duration_since(entry.obtained_at);
        entry.expires_at.saturating_duration_since(now) > self.options.margin_for(validity)
    }

    /// The cached value marked stale if it is still valid, else the error.
    fn stale_or(&self, entry: &Option<Arc<Fetched<V>>>, err: Error) -> Result<Served<V>, Error> {
        match entry {
            Some(e) if self.clock.now() < e.expires_at => Ok(served(e, Origin::Stale(err))),
            _ => Err(err),
        }
    }
}

fn served<V>(entry: &Arc<Fetched<V>>, origin: Origin) -> Served<V> {
    Served {
        entry: Arc::clone(entry),
        origin,
    }
}

/// Clears the in-flight mark and wakes waiters even if the refresh panics.
struct FlightGuard<'a, V> {
    slot: &'a Slot<V>,
    generation: u64,
}

impl<V> Drop for FlightGuard<'_, V> {
    fn drop(&mut self) {
        let mut state = self.slot.lock();
        if state.in_flight == Some(self.generation) {
            state.in_flight = None;
        }
        drop(state);
        self.slot.done.notify_all();
    }
}
#[cfg(test)]
mod tests {
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::clock::ManualClock;

    const HOUR: Duration = Duration::from_secs(3600);
    /// Only a bound against hangs: nothing in these tests waits for it.
    const NO_HANG: Duration = Duration::from_secs(60);

    fn cache(clock: &Arc<ManualClock>, margin: Option<Duration>) -> Cache<u32> {
        let options = CacheOptions {
            enabled: true,
            refresh_margin: margin,
        };
        Cache::new(options, Arc::clone(clock) as Arc<dyn Clock>)
    }

    /// A refresh that yields `value`, valid `valid` from now, and counts its calls.
    fn ok(
        clock: &ManualClock,
        calls: &AtomicUsize,
        value: u32,
        valid: Duration,
    ) -> impl FnOnce(Refresh) -> Result<Fetched<u32>, Error> {
        let now = clock.now();
        move |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(Fetched {
                value,
                obtained_at: now,
                expires_at: now + valid,
            })
        }
    }

    fn fail(calls: &AtomicUsize) -> impl FnOnce(Refresh) -> Result<Fetched<u32>, Error> {
        move |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Error::HttpStatus(503))
        }
    }

    fn get(
        c: &Cache<u32>,
        clock: &ManualClock,
        force: bool,
        refresh: impl FnOnce(Refresh) -> Result<Fetched<u32>, Error>,
    ) -> Result<Served<u32>, Error> {
        c.get_or_refresh(
            "k",
            force,
            clock.now(),
            clock.now() + NO_HANG,
            refresh,
            || {},
        )
    }

    #[test]
    fn miss_then_fresh_hit_then_forced_refresh() {
        let clock = ManualClock::new();
        let c = cache(&clock, None);
        let calls = AtomicUsize::new(0);
        let mut kinds = Vec::new();
        let first = get(&c, &clock, false, |k| {
            kinds.push(k);
            ok(&clock, &calls, 1, HOUR)(k)
        })
        .unwrap();
        assert_eq!((first.value, &first.origin), (1, &Origin::Refreshed));
        assert_eq!(first.expires_at, clock.now() + HOUR);
        clock.advance(Duration::from_secs(3000));
        let hit = get(&c, &clock, false, ok(&clock, &calls, 2, HOUR)).unwrap();
        assert_eq!((hit.value, &hit.origin), (1, &Origin::Cached));
        assert_eq!(hit.expires_at, first.expires_at);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let forced = get(&c, &clock, true, |k| {
            kinds.push(k);
            ok(&clock, &calls, 3, HOUR)(k)
        })
        .unwrap();
        assert_eq!((forced.value, forced.origin), (3, Origin::Refreshed));
        assert_eq!(kinds, [Refresh::Miss, Refresh::Due]);
        assert_eq!(c.len(), 1);
        c.clear();
        assert_eq!(c.len(), 0);
        let again = get(&c, &clock, false, ok(&clock, &calls, 4, HOUR)).unwrap();
        assert_eq!(again.origin, Origin::Refreshed);
    }

    #[test]
    fn refresh_ahead_within_the_margin() {
        let clock = ManualClock::new();
        // The default margin for 3600 s is 360 s.
        let c = cache(&clock, None);
        let calls = AtomicUsize::new(0);
        get(&c, &clock, false, ok(&clock, &calls, 1, HOUR)).unwrap();
        clock.advance(Duration::from_secs(3600 - 361));
        assert_eq!(
            get(&c, &clock, false, fail(&calls)).unwrap().origin,
            Origin::Cached
        );
        clock.advance(Duration::from_secs(1));
        let r = get(&c, &clock, false, ok(&clock, &calls, 2, HOUR)).unwrap();
        assert_eq!(
            (r.value, r.origin),
            (2, Origin::Refreshed),
            "at the margin: refreshed"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // An explicit margin.
        let c = cache(&clock, Some(Duration::from_secs(10)));
        get(
            &c,
            &clock,
            false,
            ok(&clock, &calls, 1, Duration::from_secs(100)),
        )
        .unwrap();
        clock.advance(Duration::from_secs(89));
        assert_eq!(
            get(&c, &clock, false, fail(&calls)).unwrap().origin,
            Origin::Cached
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            get(&c, &clock, false, ok(&clock, &calls, 5, HOUR))
                .unwrap()
                .value,
            5
        );
    }

    #[test]
    fn a_failed_refresh_serves_stale_until_expiry_then_fails() {
        let clock = ManualClock::new();
        let c = cache(&clock, None);
        let calls = AtomicUsize::new(0);
        let first = get(&c, &clock, false, ok(&clock, &calls, 1, HOUR)).unwrap();
        clock.advance(Duration::from_secs(3500));
        let stale = get(&c, &clock, false, fail(&calls)).unwrap();
        assert_eq!(stale.value, 1);
        assert_eq!(stale.origin, Origin::Stale(Error::HttpStatus(503)));
        assert_eq!(stale.expires_at, first.expires_at);
        // A forced refresh that fails also falls back while valid.
        let forced = get(&c, &clock, true, fail(&calls)).unwrap();
        assert!(matches!(forced.origin, Origin::Stale(_)));
        clock.advance(Duration::from_secs(100));
        let err = get(&c, &clock, false, fail(&calls)).unwrap_err();
        assert_eq!(err, Error::HttpStatus(503), "expired: the error comes back");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        let fresh = get(&c, &clock, false, ok(&clock, &calls, 2, HOUR)).unwrap();
        assert_eq!((fresh.value, fresh.origin), (2, Origin::Refreshed));
    }

    /// `THREADS` callers race for one key. The one that refreshes holds its refresh until every
    /// other caller waits for it, or until a second refresh starts (which single-flight
    /// forbids). Returns every outcome and the number of refreshes.
    fn race(outcome: Result<u32, Error>) -> (Vec<Result<Served<u32>, Error>>, usize) {
        const THREADS: usize = 8;
        let clock = ManualClock::new();
        let c = cache(&clock, None);
        let refreshes = AtomicUsize::new(0);
        let waits = AtomicUsize::new(0);
        let barrier = Barrier::new(THREADS);
        let results = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        let deadline = clock.now() + NO_HANG;
                        let refresh = |_| {
                            refreshes.fetch_add(1, Ordering::SeqCst);
                            while waits.load(Ordering::SeqCst) < THREADS - 1
                                && refreshes.load(Ordering::SeqCst) == 1
                            {
                                std::thread::yield_now();
                            }
                            outcome.clone().map(|value| Fetched {
                                value,
                                obtained_at: clock.now(),
                                expires_at: clock.now() + HOUR,
                            })
                        };
                        let on_wait = || {
                            waits.fetch_add(1, Ordering::SeqCst);
                        };
                        c.get_or_refresh("k", false, clock.now(), deadline, refresh, on_wait)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        (results, refreshes.load(Ordering::SeqCst))
    }

    #[test]
    fn concurrent_waiters_share_one_success() {
        let (results, refreshes) = race(Ok(7));
        assert_eq!(refreshes, 1, "one refresh for all callers");
        assert!(results.iter().all(|r| r.as_ref().unwrap().value == 7));
        let refreshed = results
            .iter()
            .filter(|r| r.as_ref().unwrap().origin == Origin::Refreshed)
            .count();
        assert_eq!(refreshed, 1);
    }

    #[test]
    fn concurrent_waiters_share_one_failure() {
        let (results, refreshes) = race(Err(Error::HttpStatus(502)));
        assert_eq!(
            refreshes, 1,
            "the waiters took the failure, not another try"
        );
        assert!(
            results
                .iter()
                .all(|r| r.as_ref().unwrap_err() == &Error::HttpStatus(502))
        );
    }

    #[test]
    fn other_keys_are_not_held_up_by_a_refresh() {
        let clock = ManualClock::new();
        let c = cache(&clock, None);
        let calls = AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::channel::<u32>();
        let (c, clock, calls) = (&c, &clock, &calls);
        // Key "a"'s refresh finishes only after key "b" was fetched: if "b" waited behind "a",
        // this would never return.
        std::thread::scope(|s| {
            let a = s.spawn(move || {
                c.get_or_refresh(
                    "a",
                    false,
                    clock.now(),
                    clock.now() + NO_HANG,
                    |_| {
                        let v = rx.recv_timeout(NO_HANG).expect("b was fetched meanwhile");
                        ok(clock, calls, v, HOUR)(Refresh::Miss)
                    },
                    || {},
                )
            });
            let b = c
                .get_or_refresh(
                    "b",
                    false,
                    clock.now(),
                    clock.now() + NO_HANG,
                    ok(clock, calls, 2, HOUR),
                    || {},
                )
                .unwrap();
            tx.send(b.value + 1).unwrap();
            assert_eq!(a.join().unwrap().unwrap().value, 3);
        });
        assert_eq!(c.len(), 2);
    }

    /// Readers do not block each other: while this thread holds read locks on every copy of
    /// the map (as concurrent hits do), the writers' lock and the identity's own mutex, a hit on
    /// another thread still completes. A hit that wanted any of them exclusively would wait
    /// until the guard below gives up (and the test fails).
    #[test]
    fn a_hit_takes_no_exclusive_lock() {
        let clock = ManualClock::new();
        let c = cache(&clock, None);
        let calls = AtomicUsize::new(0);
        get(&c, &clock, false, ok(&clock, &calls, 1, HOUR)).unwrap();
        let slot = Arc::clone(&c.shards[0].read().get("k").unwrap().slot);
        let (tx, rx) = std::sync::mpsc::channel();
        let (c, clock, calls) = (&c, &clock, &calls);
        std::thread::scope(|s| {
            // Inside the scope, so a failed assertion releases them before the scope joins.
            let state = slot.lock();
            let writers = c.write_lock();
            let readers: Vec<_> = c.shards.iter().map(|s| s.read()).collect();
            s.spawn(move || {
                let r = get(c, clock, false, fail(calls));
                tx.send(r.map(|r| (r.value, r.origin.clone()))).unwrap();
            });
            let got = rx
                .recv_timeout(NO_HANG)
                .expect("the hit waited for a lock another reader holds");
            assert_eq!(got.unwrap(), (1, Origin::Cached));
            drop((readers, writers, state));
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_waiter_gives_up_at_its_deadline() {
        let clock = ManualClock::new();
        let c = cache(&clock, None);
        let calls = AtomicUsize::new(0);
        let (entered_tx, entered_rx) = std::sync::mpsc::channel::<()>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let (c, clock, calls) = (&c, &clock, &calls);
        std::thread::scope(|s| {
            let leader = s.spawn(move || {
                get(c, clock, false, |k| {
                    entered_tx.send(()).unwrap();
                    release_rx.recv_timeout(NO_HANG).unwrap();
                    ok(clock, calls, 1, HOUR)(k)
                })
            });
            entered_rx.recv_timeout(NO_HANG).unwrap();
            // A caller whose deadline has passed does not wait for the refresh in flight.
            let err = c
                .get_or_refresh("k", false, clock.now(), clock.now(), fail(calls), || {})
                .unwrap_err();
            assert!(matches!(err, Error::Timeout(_)), "{err:?}");
            release_tx.send(()).unwrap();
            assert_eq!(leader.join().unwrap().unwrap().value, 1);
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
