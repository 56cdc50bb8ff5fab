//! The Java logger bridge: a `WxFaceLogger` as the core's [`LogFn`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use ::jni::errors::Error as JniError;
use ::jni::objects::{JObject, JValue};
use ::jni::sys::jint;
use ::jni::{Env, jni_sig, jni_str};

use super::error::panic_message;
use crate::{Level, LogFn};

/// The [`LogFn`] that forwards each line to `bridge.log(int level, String message)`.
///
/// It holds a global reference to the bridge (released with the client's configuration, i.e.
/// when the client is freed) and the `JavaVM`. The core calls it synchronously on the thread of
/// the call, a Java thread already attached; `attach_current_thread` then only looks up the
/// attachment (and would attach a foreign thread permanently). Every call runs in a fresh local
/// frame; an exception thrown by the logger is cleared, and a panic is contained, so neither
/// reaches the payment call.
pub(super) fn java_logger(env: &mut Env<'_>, bridge: &JObject<'_>) -> Result<LogFn, JniError> {
    let vm = env.get_java_vm()?;
    let bridge = env.new_global_ref(bridge)?;
    Ok(Arc::new(move |level: Level, message: &str| {
        let forward = || {
            let _ = vm.attach_current_thread(|env| -> Result<(), JniError> {
                let outcome = (|| -> Result<(), JniError> {
                    let message = env.new_string(message)?;
                    let level = jint::try_from(level.as_u32()).unwrap_or(jint::MAX);
                    env.call_method(
                        &bridge,
                        jni_str!("log"),
                        jni_sig!("(ILjava/lang/String;)V"),
                        &[JValue::Int(level), JValue::from(&message)],
                    )?;
                    Ok(())
                })();
                // A logger must never break a payment call: drop whatever it threw.
                if env.exception_check() {
                    env.exception_clear();
                }
                outcome
            });
        };
        if let Err(payload) = catch_unwind(AssertUnwindSafe(forward)) {
            drop(panic_message(payload));
        }
    }))
}
