//! Debug builds only: natives that `java/test/com/wxface/WxFaceTest.java` uses to check the
//! panic boundary and the logger bridge on a thread the JVM has never seen.

use std::sync::Arc;

use ::jni::objects::{JClass, JObject};
use ::jni::sys::{jint, jlong};
use ::jni::{EnvUnowned, jni_sig, jni_str};

use super::error::{Failure, ThrowJava};
use super::log;
use crate::Level;

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_wxface_WxFaceTest_nativePanicProbe<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> jlong {
    env.with_env(|_env| -> Result<jlong, Failure> {
        panic!("panic probe: this panic is deliberate");
    })
    .resolve::<ThrowJava>()
}

/// Test hook, debug builds only: builds the logger of `config` (a `WxFaceConfig` with a logger)
/// as `nativeCreate` does and calls it `lines` times from a thread the JVM has never seen, so the
/// Java test can check that a foreign thread is attached, the lines arrive, and an exception the
/// logger throws there is cleared. Returns how many lines were sent.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_wxface_WxFaceTest_nativeLogFromNativeThread<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    config: JObject<'local>,
    lines: jint,
) -> jint {
    env.with_env(|env| -> Result<jint, Failure> {
        if config.is_null() {
            return Err(Failure::Null("config"));
        }
        let bridge = env
            .get_field(
                &config,
                jni_str!("logBridge"),
                jni_sig!("Lcom/wxface/LogBridge;"),
            )?
            .l()?;
        if bridge.is_null() {
            return Err(Failure::Null("config.logger"));
        }
        let log = log::java_logger(env, &bridge)?;
        let sender = Arc::clone(&log);
        let sent = std::thread::spawn(move || {
            for i in 0..lines {
                sender(Level::Info, &format!("line {i} from a native thread"));
            }
            lines
        })
        .join()
        .unwrap_or(-1);
        drop(log);
        Ok(sent)
    })
    .resolve::<ThrowJava>()
}
