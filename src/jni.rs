//! JNI binding: the native half of the `com.wxface` Java API in `java/`.
//!
//! Android apps `System.loadLibrary("wxface")` and call these exports through
//! `com.wxface.WxFaceClient`. They call the Rust core directly (not the C ABI) and keep to a thin
//! conversion layer: Java arguments → [`Config`] / [`AuthinfoRequest`], [`Client::get_authinfo`],
//! result → `com.wxface.Authinfo`, error → a Java exception.
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
use std::time::Duration;

use ::jni::errors::{Error as JniError, ErrorPolicy};
use ::jni::objects::{JByteArray, JClass, JObject, JString, JThrowable, JValue};
use ::jni::strings::{JNIStr, JNIString};
use ::jni::sys::{jboolean, jint, jlong};
use ::jni::{Env, EnvUnowned, jni_sig, jni_str};
use zeroize::Zeroizing;

use crate::{ApiKey, Authinfo, AuthinfoRequest, Client, Config, Error, ErrorKind, SignType};

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
        let exception = env.cast_local::<JThrowable>(exception)?;
        match env.throw(&exception) {
            // `throw` reports success as "a Java exception is now pending".
            Ok(()) | Err(JniError::JavaException) => Ok(()),
            Err(e) => Err(e),
        }
    })
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

/// `static native long nativeCreate(String mchId, String appid, byte[] key, String subMchId,
/// String subAppid, String baseUrl, String signType, long connectTimeoutMillis,
/// long timeoutMillis)`: validates the configuration and returns a new client handle.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_wxface_WxFaceClient_nativeCreate<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    mch_id: JString<'local>,
    appid: JString<'local>,
    key: JByteArray<'local>,
    sub_mch_id: JString<'local>,
    sub_appid: JString<'local>,
    base_url: JString<'local>,
    sign_type: JString<'local>,
    connect_timeout_millis: jlong,
    timeout_millis: jlong,
) -> jlong {
    env.with_env(|env| -> Result<jlong, Failure> {
        let mch_id = required_string(env, &mch_id, "mch_id", "mchId")?;
        let appid = required_string(env, &appid, "appid", "appid")?;
        if key.is_null() {
            return Err(Failure::Null("key"));
        }
        let key = {
            let bytes = Zeroizing::new(env.convert_byte_array(&key)?);
            ApiKey::from_bytes(&bytes)?
        };
        let mut builder = Config::builder(mch_id, appid, key);
        if let Some(v) = read_string(env, &sub_mch_id, "sub_mch_id")? {
            builder = builder.sub_mch_id(v);
        }
        if let Some(v) = read_string(env, &sub_appid, "sub_appid")? {
            builder = builder.sub_appid(v);
        }
        if let Some(v) = read_string(env, &base_url, "base_url")? {
            builder = builder.base_url(v);
        }
        let sign_type = required_string(env, &sign_type, "sign_type", "signType")?;
        let sign_type = SignType::from_wire(&sign_type).ok_or_else(|| Error::InvalidArgument {
            field: "sign_type",
            reason: "must be MD5 or HMAC-SHA256".into(),
        })?;
        let config = builder
            .sign_type(sign_type)
            .connect_timeout(timeout("connect_timeout", connect_timeout_millis)?)
            .timeout(timeout("timeout", timeout_millis)?)
            .build()?;
        let client = Client::new(config)?;
        Ok(Box::into_raw(Box::new(client)) as jlong)
    })
    .resolve::<ThrowJava>()
}

/// `static native void nativeFree(long handle)`: drops a client. 0 is ignored. The Java side
/// calls it exactly once per handle, under the write lock.
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
/// String deviceId, String rawdata, String attach, boolean hasNow, long now)`.
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
        if handle == 0 {
            return Err(Failure::Closed);
        }
        // SAFETY: a non-zero handle came from `nativeCreate`, and the Java side holds the read
        // lock for the whole call, so `nativeFree` cannot run until this returns.
        let client = unsafe { &*(handle as *const Client) };
        let info = client.get_authinfo(&request)?;
        Ok(new_authinfo(env, &info)?)
    })
    .resolve::<ThrowJava>()
}

/// Builds `com.wxface.Authinfo(String authinfo, long expiresIn, String appid, String mchId,
/// String subAppid, String subMchId)` in its own local frame; only the result escapes.
fn new_authinfo<'local>(
    env: &mut Env<'local>,
    info: &Authinfo,
) -> Result<JObject<'local>, JniError> {
    env.with_local_frame_returning_local::<_, JObject, _>(16, |env| {
        let authinfo = env.new_string(&info.authinfo)?;
        let appid = env.new_string(&info.appid)?;
        let mch_id = env.new_string(&info.mch_id)?;
        let sub_appid = optional_jstring(env, info.sub_appid.as_deref())?;
        let sub_mch_id = optional_jstring(env, info.sub_mch_id.as_deref())?;
        env.new_object(
            AUTHINFO_CLASS,
            jni_sig!(
                "(Ljava/lang/String;JLjava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)V"
            ),
            &[
                JValue::from(&authinfo),
                JValue::Long(jlong::from(info.expires_in)),
                JValue::from(&appid),
                JValue::from(&mch_id),
                JValue::from(&sub_appid),
                JValue::from(&sub_mch_id),
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
