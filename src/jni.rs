//! JNI binding: the native half of the `com.wxface` Java API in `java/`.
//!
//! Android apps `System.loadLibrary("wxface")` and call these exports through
//! `com.wxface.WxFaceClient`. They call the Rust core directly (not the C ABI) and keep to a thin
//! conversion layer: Java arguments → [`Config`] / [`AuthinfoRequest`] / [`CallOptions`],
//! [`Client::get_authinfo_with`], result → `com.wxface.Authinfo`, error → a Java exception.
//!
//! Configuration: `nativeCreate(WxFaceConfig config, byte[] key)` reads the configuration's
//! private fields by name ([`read_config`], every read in a local frame), so a new option adds a
//! field, not a parameter. The field names are kept by `java/proguard-rules.pro`.
//!
//! Logging: a configured `WxFaceLogger` reaches the core as a [`LogFn`] closure ([`java_logger`])
//! holding a global reference to the config's `com.wxface.LogBridge` and the `JavaVM`. Each line
//! attaches the current thread if needed (calls are synchronous on Java threads, so it normally
//! is), calls `LogBridge.log(int, String)` inside a local frame, and clears whatever the logger
//! throws. The global reference is released when the client is freed.
//!
//! Every export runs its body in [`EnvUnowned::with_env`] and resolves the outcome with
//! [`ThrowJava`], so an error becomes a pending Java exception and a panic becomes a
//! `WxFaceException` with status 10; nothing unwinds into the JVM.
//!
//! Exceptions, matching the C ABI's status numbers ([`ErrorKind::code`]):
//! - [`Error::InvalidArgument`] (status 1) → `java.lang.IllegalArgumentException` naming the field;
//! - every other [`Error`] → `com.wxface.WxFaceException(status, message, returnCode, returnMsg)`
//!   with the C ABI's status and message (the error's `Display`, which for a remote failure
//!   includes WeChat's `return_msg`); `returnCode`/`returnMsg` are WeChat's values verbatim for
//!   a remote failure and `null` otherwise;
//! - a `null` where a value is required → `java.lang.NullPointerException`;
//! - a closed client (handle 0) → `java.lang.IllegalStateException`;
//! - a panic or an unexpected JNI failure → `WxFaceException` with status 10.
//!
//! The key crosses as a `byte[]` (the Java side wipes its copy), is held in zeroizing memory
//! here, and never appears in a message.
//!
//! Handle lifetime: `nativeCreate` returns `Box<Client>` as a `jlong`; `nativeFree` drops it.
//! The Java side holds a read lock around every call and the write lock in `close()`, so a handle
//! is never freed while a call uses it.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use ::jni::errors::{Error as JniError, ErrorPolicy};
use ::jni::objects::{JByteArray, JClass, JObject, JObjectArray, JString, JThrowable, JValue};
use ::jni::strings::{JNIStr, JNIString};
use ::jni::sys::{jboolean, jint, jlong};
use ::jni::{Env, EnvUnowned, jni_sig, jni_str};
use zeroize::Zeroizing;

use crate::{
    ApiKey, AuthinfoRequest, AuthinfoResult, CallOptions, Client, Config, ConfigBuilder, Error,
    ErrorKind, Level, LogFn, SignType,
};

/// Status of a panic or an unexpected JNI failure inside the library (`WXFACE_ERR_PANIC`).
const STATUS_INTERNAL: jint = 10;

const WXFACE_EXCEPTION: &JNIStr = jni_str!("com/wxface/WxFaceException");
const AUTHINFO_CLASS: &JNIStr = jni_str!("com/wxface/Authinfo");
const NPE: &JNIStr = jni_str!("java/lang/NullPointerException");
const IAE: &JNIStr = jni_str!("java/lang/IllegalArgumentException");
const ISE: &JNIStr = jni_str!("java/lang/IllegalStateException");
const RUNTIME_EXCEPTION: &JNIStr = jni_str!("java/lang/RuntimeException");

/// Why a native method failed; [`ThrowJava`] turns it into the matching Java exception.
#[derive(Debug)]
enum Failure {
    /// An error from the Rust core.
    Core(Error),
    /// A required argument was `null`; names the Java parameter.
    Null(&'static str),
    /// The client handle was 0 (closed).
    Closed,
    /// A JNI call failed. If it left a Java exception pending, that exception is kept.
    Jni(JniError),
}

impl From<JniError> for Failure {
    fn from(e: JniError) -> Self {
        Failure::Jni(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

/// The error policy of every export: throw the matching Java exception, return 0 / `null`.
///
/// A Java exception that is already pending (e.g. an `OutOfMemoryError` from a JNI call) takes
/// precedence and is left to propagate.
struct ThrowJava;

impl<T: Default> ErrorPolicy<T, Failure> for ThrowJava {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        err: Failure,
    ) -> ::jni::errors::Result<T> {
        if !env.exception_check() {
            throw_failure(env, err);
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        payload: Box<dyn Any + Send + 'static>,
    ) -> ::jni::errors::Result<T> {
        let detail = panic_message(payload);
        if !env.exception_check() {
            let message =
                format!("internal error: wxface caught a panic (please report this bug): {detail}");
            let _ = throw_wxface(env, STATUS_INTERNAL, &message, None, None);
            ensure_thrown(env, &message);
        }
        Ok(T::default())
    }
}

/// The text of a panic payload. Dropping a payload can itself panic; that is contained.
fn panic_message(payload: Box<dyn Any + Send + 'static>) -> String {
    let text = if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    };
    if let Err(inner) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(inner);
    }
    text
}

/// Throws the Java exception for `failure`. Never leaves the thread without a pending exception.
fn throw_failure(env: &mut Env<'_>, failure: Failure) {
    let message = match failure {
        Failure::Core(e) if e.kind() == ErrorKind::InvalidArgument => {
            let message = e.to_string();
            let _ = env.throw_new(IAE, JNIString::new(&message));
            message
        }
        Failure::Core(e) => {
            let status = jint::try_from(e.kind().code()).unwrap_or(STATUS_INTERNAL);
            let message = e.to_string();
            let remote = e.remote();
            let _ = throw_wxface(
                env,
                status,
                &message,
                remote.map(|r| r.0),
                remote.map(|r| r.1),
            );
            message
        }
        Failure::Null(param) => {
            let message = format!("{param} must not be null");
            let _ = env.throw_new(NPE, JNIString::new(&message));
            message
        }
        Failure::Closed => {
            let message = "the WxFaceClient is closed".to_owned();
            let _ = env.throw_new(ISE, JNIString::new(&message));
            message
        }
        Failure::Jni(e) => {
            let message = format!("internal error: JNI call failed in wxface: {e}");
            let _ = throw_wxface(env, STATUS_INTERNAL, &message, None, None);
            message
        }
    };
    ensure_thrown(env, &message);
}

/// Last resort when the intended exception could not be constructed (e.g. the class was
/// stripped by R8): a plain `RuntimeException` carrying the same message.
fn ensure_thrown(env: &mut Env<'_>, message: &str) {
    if !env.exception_check() {
        let _ = env.throw_new(RUNTIME_EXCEPTION, JNIString::new(message));
    }
}

/// Constructs and throws `com.wxface.WxFaceException(int, String, String, String)`. Its local
/// references live in their own frame.
fn throw_wxface(
    env: &mut Env<'_>,
    status: jint,
    message: &str,
    return_code: Option<&str>,
    return_msg: Option<&str>,
) -> Result<(), JniError> {
    env.with_local_frame(8, |env| -> Result<(), JniError> {
        let exception = new_wxface_exception(env, status, message, return_code, return_msg)?;
        match env.throw(&exception) {
            // `throw` reports success as "a Java exception is now pending".
            Ok(()) | Err(JniError::JavaException) => Ok(()),
            Err(e) => Err(e),
        }
    })
}

/// Constructs (without throwing) `com.wxface.WxFaceException(int, String, String, String)`.
fn new_wxface_exception<'local>(
    env: &mut Env<'local>,
    status: jint,
    message: &str,
    return_code: Option<&str>,
    return_msg: Option<&str>,
) -> Result<JThrowable<'local>, JniError> {
    env.with_local_frame_returning_local::<_, JThrowable, _>(8, |env| {
        let message = env.new_string(message)?;
        let return_code = optional_jstring(env, return_code)?;
        let return_msg = optional_jstring(env, return_msg)?;
        let exception = env.new_object(
            WXFACE_EXCEPTION,
            jni_sig!("(ILjava/lang/String;Ljava/lang/String;Ljava/lang/String;)V"),
            &[
                JValue::Int(status),
                JValue::from(&message),
                JValue::from(&return_code),
                JValue::from(&return_msg),
            ],
        )?;
        env.cast_local::<JThrowable>(exception)
    })
}

/// The `WxFaceException` for a core error, not thrown (a stale result's `refreshError`).
fn core_exception<'local>(
    env: &mut Env<'local>,
    e: &Error,
) -> Result<JThrowable<'local>, JniError> {
    let status = jint::try_from(e.kind().code()).unwrap_or(STATUS_INTERNAL);
    let remote = e.remote();
    new_wxface_exception(
        env,
        status,
        &e.to_string(),
        remote.map(|r| r.0),
        remote.map(|r| r.1),
    )
}

fn optional_jstring<'local>(
    env: &mut Env<'local>,
    value: Option<&str>,
) -> Result<JObject<'local>, JniError> {
    Ok(match value {
        Some(v) => env.new_string(v)?.into(),
        None => JObject::null(),
    })
}

/// Reads a Java string strictly. Java's modified UTF-8 equals UTF-8 except for U+0000 and
/// supplementary characters (written as surrogate pairs); plain UTF-8 validation refuses both
/// and any unpaired surrogate. The core refuses NUL and 4-byte characters anyway, so nothing it
/// would accept is lost, and nothing is silently replaced.
fn read_string(
    env: &Env<'_>,
    value: &JString<'_>,
    field: &'static str,
) -> Result<Option<String>, Failure> {
    if value.is_null() {
        return Ok(None);
    }
    let chars = value.mutf8_chars(env)?;
    match std::str::from_utf8(chars.to_bytes()) {
        Ok(s) => Ok(Some(s.to_owned())),
        Err(_) => Err(Failure::Core(Error::InvalidArgument {
            field,
            reason: "contains a NUL character, a character outside the Basic Multilingual Plane \
                     (e.g. an emoji) or an unpaired surrogate, which WeChat does not accept"
                .into(),
        })),
    }
}

fn required_string(
    env: &Env<'_>,
    value: &JString<'_>,
    field: &'static str,
    param: &'static str,
) -> Result<String, Failure> {
    read_string(env, value, field)?.ok_or(Failure::Null(param))
}

fn timeout(field: &'static str, millis: jlong) -> Result<Duration, Failure> {
    match u64::try_from(millis) {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(Failure::Core(Error::InvalidArgument {
            field,
            reason: format!("must be greater than zero milliseconds, got {millis}"),
        })),
    }
}

fn non_negative(field: &'static str, value: jlong) -> Result<u64, Failure> {
    u64::try_from(value).map_err(|_| {
        Failure::Core(Error::InvalidArgument {
            field,
            reason: format!("must not be negative, got {value}"),
        })
    })
}

/// The client behind a handle; 0 (closed) fails.
///
/// # Safety
///
/// A non-zero `handle` must come from `nativeCreate` and not be freed while the reference is
/// used: the Java side holds the handle's read lock for the whole native call, and `nativeFree`
/// runs under the write lock.
unsafe fn client_ref<'a>(handle: jlong) -> Result<&'a Client, Failure> {
    if handle == 0 {
        return Err(Failure::Closed);
    }
    // SAFETY: see the function's contract.
    Ok(unsafe { &*(handle as *const Client) })
}

/// Reads the `String` field `name` of `obj`; `field` names it in an error.
fn field_string(
    env: &mut Env<'_>,
    obj: &JObject<'_>,
    name: &JNIStr,
    field: &'static str,
) -> Result<Option<String>, Failure> {
    env.with_local_frame(4, |env| -> Result<Option<String>, Failure> {
        let value = env.get_field(obj, name, jni_sig!(java.lang.String))?.l()?;
        let value = env.cast_local::<JString>(value)?;
        read_string(env, &value, field)
    })
}

fn field_long(env: &mut Env<'_>, obj: &JObject<'_>, name: &JNIStr) -> Result<jlong, Failure> {
    Ok(env.get_field(obj, name, jni_sig!(jlong))?.j()?)
}

fn field_int(env: &mut Env<'_>, obj: &JObject<'_>, name: &JNIStr) -> Result<jint, Failure> {
    Ok(env.get_field(obj, name, jni_sig!(jint))?.i()?)
}

fn field_bool(env: &mut Env<'_>, obj: &JObject<'_>, name: &JNIStr) -> Result<bool, Failure> {
    Ok(env.get_field(obj, name, jni_sig!(jboolean))?.z()?)
}

/// Reads the `String[]` field `name` of `obj` (`null` is an empty list; a `null` element fails
/// naming `param`). Each element is read in its own local frame.
fn field_string_array(
    env: &mut Env<'_>,
    obj: &JObject<'_>,
    name: &JNIStr,
    field: &'static str,
    param: &'static str,
) -> Result<Vec<String>, Failure> {
    env.with_local_frame(4, |env| -> Result<Vec<String>, Failure> {
        let array = env
            .get_field(obj, name, jni_sig!(java.lang.String[]))?
            .l()?;
        if array.is_null() {
            return Ok(Vec::new());
        }
        let array = env.cast_local::<JObjectArray<JString>>(array)?;
        let len = array.len(env)?;
        let mut out = Vec::with_capacity(len);
        for i in 0..len {
            let value = env.with_local_frame(4, |env| -> Result<Option<String>, Failure> {
                let element = array.get_element(env, i)?;
                read_string(env, &element, field)
            })?;
            out.push(value.ok_or(Failure::Null(param))?);
        }
        Ok(out)
    })
}

/// Reads a `byte[]` field; `None` if it is null.
fn field_bytes(
    env: &mut Env<'_>,
    obj: &JObject<'_>,
    name: &JNIStr,
) -> Result<Option<Vec<u8>>, Failure> {
    let value = env.get_field(obj, name, jni_sig!(jbyte[]))?.l()?;
    if value.is_null() {
        return Ok(None);
    }
    let array = env.cast_local::<JByteArray>(value)?;
    Ok(Some(env.convert_byte_array(&array)?))
}

/// Reads the `byte[][]` field `name` of `obj` (`null` is an empty list).
fn field_bytes_array(
    env: &mut Env<'_>,
    obj: &JObject<'_>,
    name: &JNIStr,
    param: &'static str,
) -> Result<Vec<Vec<u8>>, Failure> {
    env.with_local_frame(4, |env| -> Result<Vec<Vec<u8>>, Failure> {
        let array = env.get_field(obj, name, jni_sig!(jbyte[][]))?.l()?;
        if array.is_null() {
            return Ok(Vec::new());
        }
        let array = env.cast_local::<JObjectArray<JByteArray>>(array)?;
        let len = array.len(env)?;
        let mut out = Vec::with_capacity(len);
        for i in 0..len {
            let bytes = env.with_local_frame(4, |env| -> Result<Vec<u8>, Failure> {
                let element = array.get_element(env, i)?;
                if element.is_null() {
                    return Err(Failure::Null(param));
                }
                Ok(env.convert_byte_array(&element)?)
            })?;
            out.push(bytes);
        }
        Ok(out)
    })
}

/// Builds the [`Config`] from a `com.wxface.WxFaceConfig` and the key, reading the config's
/// fields by name. The Java builder already refused `null`s and negative numbers; everything is
/// checked again here (the fields could be reached by reflection) and by
/// [`ConfigBuilder::build`].
fn read_config(
    env: &mut Env<'_>,
    config: &JObject<'_>,
    key: &JByteArray<'_>,
) -> Result<Config, Failure> {
    if config.is_null() {
        return Err(Failure::Null("config"));
    }
    if key.is_null() {
        return Err(Failure::Null("key"));
    }
    env.with_local_frame(16, |env| -> Result<Config, Failure> {
        let mch_id = field_string(env, config, jni_str!("mchId"), "mch_id")?
            .ok_or(Failure::Null("mchId"))?;
        let appid =
            field_string(env, config, jni_str!("appid"), "appid")?.ok_or(Failure::Null("appid"))?;
        let mut b: ConfigBuilder = ConfigBuilder::new().mch_id(mch_id).appid(appid);
        // Relay mode (WxFaceConfig.relayBuilder): no key on the terminal.
        if let Some(url) = field_string(env, config, jni_str!("relayUrl"), "relay_url")? {
            b = b.relay_url(url);
            if let Some(t) = field_string(env, config, jni_str!("relayToken"), "relay_token")? {
                b = b.relay_token(Zeroizing::new(t).as_str());
            }
            let cert = field_bytes(env, config, jni_str!("relayCertPem"))?;
            let key_pem = field_bytes(env, config, jni_str!("relayKeyPem"))?.map(Zeroizing::new);
            if let (Some(c), Some(k)) = (cert, key_pem) {
                b = b.relay_client_cert(c, k.to_vec());
            }
        } else {
            let bytes = Zeroizing::new(env.convert_byte_array(key)?);
            b = b.key(ApiKey::from_bytes(&bytes)?);
        }
        if let Some(v) = field_string(env, config, jni_str!("subMchId"), "sub_mch_id")? {
            b = b.sub_mch_id(v);
        }
        if let Some(v) = field_string(env, config, jni_str!("subAppid"), "sub_appid")? {
            b = b.sub_appid(v);
        }
        let base_url = field_string(env, config, jni_str!("baseUrl"), "base_url")?
            .ok_or(Failure::Null("baseUrl"))?;
        b = b.base_url(base_url);
        let fallbacks = field_string_array(
            env,
            config,
            jni_str!("fallbackBaseUrls"),
            "base_url",
            "fallbackBaseUrls element",
        )?;
        for url in fallbacks {
            b = b.fallback_base_url(url);
        }
        let sign_type = field_string(env, config, jni_str!("signTypeName"), "sign_type")?
            .ok_or(Failure::Null("signType"))?;
        let sign_type = SignType::from_wire(&sign_type).ok_or_else(|| Error::InvalidArgument {
            field: "sign_type",
            reason: "must be MD5 or HMAC-SHA256".into(),
        })?;
        b = b.sign_type(sign_type);
        let connect = field_long(env, config, jni_str!("connectTimeoutMillis"))?;
        b = b.connect_timeout(timeout("connect_timeout", connect)?);
        let total = field_long(env, config, jni_str!("timeoutMillis"))?;
        b = b.timeout(timeout("timeout", total)?);
        let attempt = field_long(env, config, jni_str!("attemptTimeoutMillis"))?;
        if attempt != 0 {
            b = b.attempt_timeout(timeout("attempt_timeout", attempt)?);
        }
        let retries = field_int(env, config, jni_str!("maxRetries"))?;
        let retries = u32::try_from(retries).map_err(|_| Error::InvalidArgument {
            field: "max_retries",
            reason: format!("must not be negative, got {retries}"),
        })?;
        b = b.max_retries(retries);
        let initial = field_long(env, config, jni_str!("backoffInitialMillis"))?;
        let max = field_long(env, config, jni_str!("backoffMaxMillis"))?;
        b = b.backoff(
            Duration::from_millis(non_negative("backoff", initial)?),
            Duration::from_millis(non_negative("backoff", max)?),
        );
        b = b.clock_skew_correction(field_bool(env, config, jni_str!("clockSkewCorrection"))?);
        b = b.cache(field_bool(env, config, jni_str!("cache"))?);
        let margin = field_long(env, config, jni_str!("cacheRefreshMarginSeconds"))?;
        if margin != -1 {
            b = b.cache_refresh_margin(Duration::from_secs(non_negative(
                "cache_refresh_margin",
                margin,
            )?));
        }
        if let Some(url) = field_string(env, config, jni_str!("proxy"), "proxy")? {
            b = b.proxy(url);
        }
        if let Some(user) = field_string(env, config, jni_str!("proxyUser"), "proxy")? {
            let password = Zeroizing::new(
                field_string(env, config, jni_str!("proxyPassword"), "proxy")?
                    .ok_or(Failure::Null("proxyPassword"))?,
            );
            b = b.proxy_credentials(user, password.as_str());
        }
        for pem in field_bytes_array(env, config, jni_str!("caPems"), "caPems element")? {
            b = b.ca_pem(pem);
        }
        let files = field_string_array(
            env,
            config,
            jni_str!("caFiles"),
            "ca_file",
            "caFiles element",
        )?;
        for path in files {
            b = b.ca_file(path);
        }
        b = b.builtin_roots(field_bool(env, config, jni_str!("builtinRoots"))?);
        let level = field_int(env, config, jni_str!("logLevel"))?;
        let level = u32::try_from(level)
            .ok()
            .and_then(Level::from_u32)
            .ok_or_else(|| Error::InvalidArgument {
                field: "log_level",
                reason: format!("must be 1 (ERROR) to 4 (DEBUG), got {level}"),
            })?;
        b = b.log_level(level);
        let bridge = env
            .get_field(
                config,
                jni_str!("logBridge"),
                jni_sig!("Lcom/wxface/LogBridge;"),
            )?
            .l()?;
        if !bridge.is_null() {
            b = b.logger(java_logger(env, &bridge)?);
        }
        Ok(b.build()?)
    })
}

/// The [`LogFn`] that forwards each line to `bridge.log(int level, String message)`.
///
/// It holds a global reference to the bridge (released with the client's configuration, i.e.
/// when the client is freed) and the `JavaVM`. The core calls it synchronously on the thread of
/// the call, a Java thread already attached; `attach_current_thread` then only looks up the
/// attachment (and would attach a foreign thread permanently). Every call runs in a fresh local
/// frame; an exception thrown by the logger is cleared, and a panic is contained, so neither
/// reaches the payment call.
fn java_logger(env: &mut Env<'_>, bridge: &JObject<'_>) -> Result<LogFn, JniError> {
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

/// `static native long nativeCreate(WxFaceConfig config, byte[] key)`: reads and validates the
/// configuration ([`read_config`]) and returns a new client handle.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_wxface_WxFaceClient_nativeCreate<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    config: JObject<'local>,
    key: JByteArray<'local>,
) -> jlong {
    env.with_env(|env| -> Result<jlong, Failure> {
        let config = read_config(env, &config, &key)?;
        let client = Client::new(config)?;
        Ok(Box::into_raw(Box::new(client)) as jlong)
    })
    .resolve::<ThrowJava>()
}

/// `static native void nativeFree(long handle)`: drops a client (and with it the logger's global
/// reference). 0 is ignored. The Java side calls it exactly once per handle, under the write
/// lock.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_wxface_WxFaceClient_nativeFree<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    env.with_env(|_env| -> Result<(), Failure> {
        if handle != 0 {
            // SAFETY: `handle` came from `nativeCreate`'s `Box::into_raw`, and the Java side
            // zeroes its copy under the write lock before calling here, so this runs once and no
            // call is using the client.
            drop(unsafe { Box::from_raw(handle as *mut Client) });
        }
        Ok(())
    })
    .resolve::<ThrowJava>()
}

/// `static native Authinfo nativeGetAuthinfo(long handle, String storeId, String storeName,
/// String deviceId, String rawdata, String attach, boolean hasNow, long now,
/// boolean forceRefresh, boolean useCache)`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_com_wxface_WxFaceClient_nativeGetAuthinfo<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    store_id: JString<'local>,
    store_name: JString<'local>,
    device_id: JString<'local>,
    rawdata: JString<'local>,
    attach: JString<'local>,
    has_now: jboolean,
    now: jlong,
    force_refresh: jboolean,
    use_cache: jboolean,
) -> JObject<'local> {
    env.with_env(|env| -> Result<JObject<'local>, Failure> {
        let mut request = AuthinfoRequest::new(
            required_string(env, &store_id, "store_id", "storeId")?,
            required_string(env, &store_name, "store_name", "storeName")?,
            required_string(env, &device_id, "device_id", "deviceId")?,
            required_string(env, &rawdata, "rawdata", "rawdata")?,
        );
        if let Some(v) = read_string(env, &attach, "attach")? {
            request = request.attach(v);
        }
        if has_now {
            request = request.now(now);
        }
        let options = CallOptions {
            force_refresh,
            use_cache,
        };
        // SAFETY: the Java side holds the read lock for the whole call, so `nativeFree` cannot
        // run until this returns.
        let client = unsafe { client_ref(handle) }?;
        let result = client.get_authinfo_with(&request, &options)?;
        Ok(new_authinfo(env, &result)?)
    })
    .resolve::<ThrowJava>()
}

/// `static native void nativeClearCache(long handle)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_wxface_WxFaceClient_nativeClearCache<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    env.with_env(|_env| -> Result<(), Failure> {
        // SAFETY: called under the handle's read lock.
        unsafe { client_ref(handle) }?.clear_cache();
        Ok(())
    })
    .resolve::<ThrowJava>()
}

/// `static native int nativeCachedCount(long handle)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_wxface_WxFaceClient_nativeCachedCount<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jint {
    env.with_env(|_env| -> Result<jint, Failure> {
        // SAFETY: called under the handle's read lock.
        let count = unsafe { client_ref(handle) }?.cached_count();
        Ok(jint::try_from(count).unwrap_or(jint::MAX))
    })
    .resolve::<ThrowJava>()
}

/// `static native long nativeClockOffsetSeconds(long handle)`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_wxface_WxFaceClient_nativeClockOffsetSeconds<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlong {
    env.with_env(|_env| -> Result<jlong, Failure> {
        // SAFETY: called under the handle's read lock.
        Ok(unsafe { client_ref(handle) }?.clock_offset_secs())
    })
    .resolve::<ThrowJava>()
}

/// Builds `com.wxface.Authinfo(String authinfo, long expiresIn, String appid, String mchId,
/// String subAppid, String subMchId, boolean fromCache, boolean stale,
/// WxFaceException refreshError, long remainingMillis, long clockOffsetSeconds,
/// boolean clockCorrected, int attempts)` in its own local frame; only the result escapes.
fn new_authinfo<'local>(
    env: &mut Env<'local>,
    result: &AuthinfoResult,
) -> Result<JObject<'local>, JniError> {
    let info = &result.authinfo;
    env.with_local_frame_returning_local::<_, JObject, _>(16, |env| {
        let authinfo = env.new_string(&info.authinfo)?;
        let appid = env.new_string(&info.appid)?;
        let mch_id = env.new_string(&info.mch_id)?;
        let sub_appid = optional_jstring(env, info.sub_appid.as_deref())?;
        let sub_mch_id = optional_jstring(env, info.sub_mch_id.as_deref())?;
        let refresh_error: JObject = match &result.refresh_error {
            Some(e) => core_exception(env, e)?.into(),
            None => JObject::null(),
        };
        let remaining = jlong::try_from(result.remaining().as_millis()).unwrap_or(jlong::MAX);
        let attempts = jint::try_from(result.attempts).unwrap_or(jint::MAX);
        env.new_object(
            AUTHINFO_CLASS,
            jni_sig!(
                "(Ljava/lang/String;JLjava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;ZZLcom/wxface/WxFaceException;JJZI)V"
            ),
            &[
                JValue::from(&authinfo),
                JValue::Long(jlong::from(info.expires_in)),
                JValue::from(&appid),
                JValue::from(&mch_id),
                JValue::from(&sub_appid),
                JValue::from(&sub_mch_id),
                JValue::Bool(result.from_cache),
                JValue::Bool(result.stale),
                JValue::from(&refresh_error),
                JValue::Long(remaining),
                JValue::Long(result.clock_offset_secs),
                JValue::Bool(result.clock_corrected),
                JValue::Int(attempts),
            ],
        )
    })
}

/// `static native String nativeVersion()`: the library's version, to spot a jar/library
/// mismatch.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_wxface_WxFaceClient_nativeVersion<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JString<'local> {
    env.with_env(|env| -> Result<JString<'local>, Failure> { Ok(env.new_string(crate::VERSION)?) })
        .resolve::<ThrowJava>()
}

/// Test hook, debug builds only: panics inside an export so the Java test can check that a
/// panic arrives as `WxFaceException` status 10 and the JVM carries on.
#[cfg(debug_assertions)]
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
#[cfg(debug_assertions)]
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
        let log = java_logger(env, &bridge)?;
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
