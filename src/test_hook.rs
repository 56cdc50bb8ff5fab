//! Debug builds only: a hook that makes the next call (`wxface_get_authinfo*`) or constructor
//! (`wxface_*_new`) on the calling thread panic inside its panic boundary, so tests/c/test_ffi.c can check that a panic reaches C as
//! `WXFACE_ERR_PANIC` and the process carries on. It lives outside `src/ffi` so that it never
//! reaches the header, and release builds have neither the export nor the check.

#[cfg(debug_assertions)]
thread_local! {
    static ARMED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Panics if the hook was armed on this thread (once).
#[cfg(debug_assertions)]
pub(crate) fn maybe_panic() {
    if ARMED.with(|a| a.replace(false)) {
        panic!("test hook: deliberate panic inside a wxface entry point");
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub(crate) fn maybe_panic() {}

/// Arms the hook for the next guarded call on this thread. Declared by the C test itself.
#[cfg(debug_assertions)]
#[unsafe(no_mangle)]
pub extern "C" fn wxface_test_panic_next_call() {
    ARMED.with(|a| a.set(true));
}
