//! The per-client authinfo cache policy: one slot per identity, get-or-refresh with
//! single-flight (concurrent callers for one identity share one refresh, its success or its
//! failure), serve-stale (a failed refresh falls back to a still-valid entry), and
//! refresh-ahead (an entry is refreshed once its remaining validity is within the margin).
//! Expiry is measured on the injected monotonic [`Clock`].
//!
//! A hit is a read lock on the map, a lookup, a freshness check and a reference-count increment:
//! it copies nothing and takes no exclusive lock. An identity's current entry is published in
//! the map as the same `Arc` its slot holds, and a hit shares it. Writers (a new identity, a new
//! entry, a clear) are rare and hold the map's write lock only to insert or swap. Refreshes,
//! waiting and the refresh bookkeeping use the identity's own mutex; the published entry only
//! changes while that mutex is held.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use crate::clock::Clock;
use crate::config::CacheOptions;
use crate::error::Error;

/// A value obtained by a refresh and when it stops being valid.
#[derive(Debug)]
pub(crate) struct Fetched<V> {
    pub value: V,
    /// When the request that obtained it was sent.
    pub obtained_at: Instant,
    /// When it expires (`obtained_at + expires_in`).
    pub expires_at: Instant,
}

/// What the cache reads of an entry: when it was obtained and when it expires. The cache holds
/// entries as `Arc<E>`, so `E` may be a trait object (the client's is: its binding decides the
/// type).
pub(crate) trait Validity {
    fn obtained_at(&self) -> Instant;
    fn expires_at(&self) -> Instant;
}

impl<V> Validity for Fetched<V> {
    fn obtained_at(&self) -> Instant {
        self.obtained_at
    }
    fn expires_at(&self) -> Instant {
        self.expires_at
    }
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

/// An entry, shared with the cache (no copy of it), and where it came from. Derefs to the
/// entry.
#[derive(Debug)]
pub(crate) struct Served<E: ?Sized> {
    pub entry: Arc<E>,
    pub origin: Origin,
}

impl<E: ?Sized> std::ops::Deref for Served<E> {
    type Target = E;
    fn deref(&self) -> &E {
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
struct SlotState<E: ?Sized> {
    /// The current entry (the same `Arc` the map publishes while this slot is in the map).
    entry: Option<Arc<E>>,
    /// Generation of the refresh in flight, if any.
    in_flight: Option<u64>,
    /// Generations handed out so far.
    generation: u64,
    /// The failure of the last finished refresh, with its generation.
    last_error: Option<(u64, Error)>,
}

struct Slot<E: ?Sized> {
    state: Mutex<SlotState<E>>,
    done: Condvar,
}

impl<E: ?Sized> Slot<E> {
    fn lock(&self) -> MutexGuard<'_, SlotState<E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the map holds for one identity: its slot and the entry hits read.
struct Published<E: ?Sized> {
    slot: Arc<Slot<E>>,
    entry: Option<Arc<E>>,
}

type Map<E> = HashMap<String, Published<E>>;

/// Identity → slot and published entry. The map's write lock is held only to add or clear
/// slots and to publish a new entry, never across a refresh; a slot's lock is never held
/// across a refresh either. Lock order: a slot's mutex, then the map.
pub(crate) struct Cache<E: ?Sized> {
    map: RwLock<Map<E>>,
    options: CacheOptions,
    clock: Arc<dyn Clock>,
}

impl<E: ?Sized + Validity> Cache<E> {
    pub(crate) fn new(options: CacheOptions, clock: Arc<dyn Clock>) -> Self {
        Cache {
            map: RwLock::new(HashMap::new()),
            options,
            clock,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Map<E>> {
        self.map.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Map<E>> {
        self.map.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached entry for `key` while it is fresh (unless `force`); otherwise runs `refresh`
    /// (at most one at a time per key: concurrent callers wait for it until `deadline` and share
    /// its outcome). A failed refresh serves the cached entry while it is still valid, as
    /// [`Origin::Stale`]; once expired, the failure is returned. `on_wait` is called (with no
    /// lock held) when this call starts waiting for a concurrent refresh. `started` is when the
    /// call started, on the cache's clock (the caller has read it already).
    pub(crate) fn get_or_refresh(
        &self,
        key: &str,
        force: bool,
        started: Instant,
        deadline: Instant,
        refresh: impl FnOnce(Refresh) -> Result<Arc<E>, Error>,
        on_wait: impl Fn(),
    ) -> Result<Served<E>, Error> {
        // A hit: the map, read-locked; no copy of the entry.
        let slot = {
            let slots = self.read();
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
                let shared = waited_for.is_some() || entry.obtained_at() >= started;
                if (self.is_fresh(entry, now) && !force) || (shared && now < entry.expires_at()) {
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
            Ok(entry) => {
                let replaced = self.publish(key, &slot, &entry);
                let previous = state.entry.replace(Arc::clone(&entry));
                state.last_error = None;
                drop(state);
                // The previous entry is dropped (and, once no caller holds it, wiped) with no
                // lock held.
                drop((replaced, previous));
                Ok(Served {
                    entry,
                    origin: Origin::Refreshed,
                })
            }
            Err(err) => {
                state.last_error = Some((generation, err.clone()));
                let result = self.stale_or(&state.entry, err);
                drop(state);
                result
            }
        };
        drop(guard);
        result
    }

    /// Forgets every entry. A refresh in flight finishes but its result is not kept.
    pub(crate) fn clear(&self) {
        // Taken out first and dropped after the lock is released: dropping the last reference
        // to an entry wipes it, which need not block readers.
        let old = std::mem::take(&mut *self.write());
        drop(old);
    }

    /// How many keys have an entry (fresh, due or expired).
    pub(crate) fn len(&self) -> usize {
        self.read().values().filter(|p| p.entry.is_some()).count()
    }

    /// The slot of `key`, added to the map if it has none.
    fn slot(&self, key: &str) -> Arc<Slot<E>> {
        let mut slots = self.write();
        let published = slots.entry(key.to_owned()).or_insert_with(|| Published {
            slot: Arc::new(Slot {
                state: Mutex::new(SlotState {
                    entry: None,
                    in_flight: None,
                    generation: 0,
                    last_error: None,
                }),
                done: Condvar::new(),
            }),
            entry: None,
        });
        Arc::clone(&published.slot)
    }

    /// Makes `entry` what hits on `key` read, unless the map no longer holds `slot` (cleared
    /// meanwhile: the result is not kept). Called with the slot's mutex held; returns the
    /// entry it replaced, for the caller to drop outside the locks.
    fn publish(&self, key: &str, slot: &Arc<Slot<E>>, entry: &Arc<E>) -> Option<Arc<E>> {
        let mut slots = self.write();
        match slots.get_mut(key) {
            Some(p) if Arc::ptr_eq(&p.slot, slot) => p.entry.replace(Arc::clone(entry)),
            _ => None,
        }
    }

    /// Fresh while the remaining validity is above the refresh margin.
    fn is_fresh(&self, entry: &E, now: Instant) -> bool {
        let validity = entry
            .expires_at()
            .saturating_duration_since(entry.obtained_at());
        entry.expires_at().saturating_duration_since(now) > self.options.margin_for(validity)
    }

    /// The cached entry marked stale if it is still valid, else the error.
    fn stale_or(&self, entry: &Option<Arc<E>>, err: Error) -> Result<Served<E>, Error> {
        match entry {
            Some(e) if self.clock.now() < e.expires_at() => Ok(served(e, Origin::Stale(err))),
            _ => Err(err),
        }
    }
}

fn served<E: ?Sized>(entry: &Arc<E>, origin: Origin) -> Served<E> {
    Served {
        entry: Arc::clone(entry),
        origin,
    }
}

/// Clears the in-flight mark and wakes waiters even if the refresh panics.
struct FlightGuard<'a, E: ?Sized> {
    slot: &'a Slot<E>,
    generation: u64,
}

impl<E: ?Sized> Drop for FlightGuard<'_, E> {
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
    type Entry = Fetched<u32>;
    /// Only a bound against hangs: nothing in these tests waits for it.
    const NO_HANG: Duration = Duration::from_secs(60);

    fn cache(clock: &Arc<ManualClock>, margin: Option<Duration>) -> Cache<Fetched<u32>> {
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
    ) -> impl FnOnce(Refresh) -> Result<Arc<Fetched<u32>>, Error> {
        let now = clock.now();
        move |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(Arc::new(Fetched {
                value,
                obtained_at: now,
                expires_at: now + valid,
            }))
        }
    }

    fn fail(calls: &AtomicUsize) -> impl FnOnce(Refresh) -> Result<Arc<Fetched<u32>>, Error> {
        move |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Error::HttpStatus(503))
        }
    }

    fn get(
        c: &Cache<Fetched<u32>>,
        clock: &ManualClock,
        force: bool,
        refresh: impl FnOnce(Refresh) -> Result<Arc<Fetched<u32>>, Error>,
    ) -> Result<Served<Fetched<u32>>, Error> {
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
    fn race(outcome: Result<u32, Error>) -> (Vec<Result<Served<Entry>, Error>>, usize) {
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
                            outcome.clone().map(|value| {
                                Arc::new(Fetched {
                                    value,
                                    obtained_at: clock.now(),
                                    expires_at: clock.now() + HOUR,
                                })
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

    /// Readers do not block each other: while this thread holds a read lock on the map (as
    /// concurrent hits do) and the identity's own mutex, a hit on another thread still
    /// completes. A hit that wanted either of them exclusively would wait until the guard below
    /// gives up (and the test fails).
    #[test]
    fn a_hit_takes_no_exclusive_lock() {
        let clock = ManualClock::new();
        let c = cache(&clock, None);
        let calls = AtomicUsize::new(0);
        get(&c, &clock, false, ok(&clock, &calls, 1, HOUR)).unwrap();
        let slot = Arc::clone(&c.read().get("k").unwrap().slot);
        let (tx, rx) = std::sync::mpsc::channel();
        let (c, clock, calls) = (&c, &clock, &calls);
        std::thread::scope(|s| {
            // Inside the scope, so a failed assertion releases them before the scope joins.
            let state = slot.lock();
            let reader = c.read();
            s.spawn(move || {
                let r = get(c, clock, false, fail(calls));
                tx.send(r.map(|r| (r.value, r.origin.clone()))).unwrap();
            });
            let got = rx
                .recv_timeout(NO_HANG)
                .expect("the hit waited for a lock another reader holds");
            assert_eq!(got.unwrap(), (1, Origin::Cached));
            drop((reader, state));
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
