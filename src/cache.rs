//! The per-client authinfo cache: one slot per identity, single-flight refreshes, expiry on
//! the monotonic clock.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::authinfo::Authinfo;
use crate::error::Error;

/// What identifies an authinfo: WeChat allows reusing one for the same terminal and
/// parameters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub appid: String,
    pub mch_id: String,
    pub sub_appid: Option<String>,
    pub sub_mch_id: Option<String>,
    pub store_id: String,
    pub device_id: String,
}

/// A cached authinfo and when it stops being valid.
#[derive(Clone)]
pub(crate) struct Entry {
    pub authinfo: Authinfo,
    /// When the request that obtained it was sent.
    pub obtained_at: Instant,
    /// `obtained_at + expires_in`.
    pub expires_at: Instant,
}

/// The state of one identity.
#[derive(Default)]
pub(crate) struct SlotState {
    pub entry: Option<Entry>,
    /// Generation of the refresh in flight, if any.
    pub in_flight: Option<u64>,
    /// Generations handed out so far.
    pub generation: u64,
    /// The failure of the last finished refresh, with its generation.
    pub last_error: Option<(u64, Error)>,
}

pub(crate) struct Slot {
    pub state: Mutex<SlotState>,
    pub done: Condvar,
}

impl Slot {
    pub(crate) fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Identity → slot. The map's lock is held only to find or clear slots, never across a call.
#[derive(Default)]
pub(crate) struct Cache {
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
}

impl Cache {
    pub(crate) fn slot(&self, key: Key) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(slots.entry(key).or_insert_with(|| {
            Arc::new(Slot {
                state: Mutex::new(SlotState::default()),
                done: Condvar::new(),
            })
        }))
    }

    /// Forgets every authinfo. A refresh in flight finishes but its result is not kept.
    pub(crate) fn clear(&self) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    pub(crate) fn len(&self) -> usize {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.values().filter(|s| s.lock().entry.is_some()).count()
    }
}

/// Clears the in-flight mark and wakes waiters even if the refresh panics.
pub(crate) struct FlightGuard<'a> {
    pub slot: &'a Slot,
    pub generation: u64,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.slot.lock();
        if state.in_flight == Some(self.generation) {
            state.in_flight = None;
        }
        drop(state);
        self.slot.done.notify_all();
    }
}
