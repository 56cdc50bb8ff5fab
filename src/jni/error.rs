//! Failures of the native methods and the Java exceptions they become; the panic boundary.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use ::jni::errors::{Error as JniError, ErrorPolicy};
use ::jni::objects::{JObject, JThrowable, JValue};
use ::jni::strings::{JNIStr, JNIString};
use ::jni::sys::jint;
use ::jni::{Env, jni_sig, jni_str};

use crate::{Error, ErrorKind};

/// Status of a panic or an unexpected JNI failure inside the library (`WXFACE_ERR_PANIC`).
pub(super) const STATUS_INTERNAL: jint = 10;

const WXFACE_EXCEPTION: &JNIStr = jni_str!("com/wxface/WxFaceException");
const NPE: &JNIStr = jni_str!("java/lang/NullPointerException");
const IAE: &JNIStr = jni_str!("java/lang/IllegalArgumentException");
const ISE: &JNIStr = jni_str!("java/lang/IllegalStateException");
const RUNTIME_EXCEPTION: &JNIStr = jni_str!("java/lang/RuntimeException");

/// Why a native method failed; [`ThrowJava`] turns it into the matching Java exception.
#[derive(Debug)]
pub(super) enum Failure {
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
pub(super) struct ThrowJava;

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
            let _ = throw_wxface(env, &Thrown::internal(&message));
            ensure_thrown(env, &message);
        }
        Ok(T::default())
    }
}

/// The text of a panic payload. Dropping a payload can itself panic; that is contained.
pub(super) fn panic_message(payload: Box<dyn Any + Send + 'static>) -> String {
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
            let message = e.to_string();
            let _ = throw_wxface(env, &Thrown::core(&e, &message));
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
            let _ = throw_wxface(env, &Thrown::internal(&message));
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

/// The fields of a `com.wxface.WxFaceException`.
struct Thrown<'a> {
    status: jint,
    message: &'a str,
    return_code: Option<&'a str>,
    return_msg: Option<&'a str>,
    http_status: jint,
    transient: bool,
}

impl<'a> Thrown<'a> {
    /// A core error: its status, WeChat's codes, its HTTP status and the retry rule's verdict.
    fn core(e: &'a Error, message: &'a str) -> Thrown<'a> {
        let remote = e.remote();
        Thrown {
            status: jint::try_from(e.kind().code()).unwrap_or(STATUS_INTERNAL),
            message,
            return_code: remote.map(|r| r.0),
            return_msg: remote.map(|r| r.1),
            http_status: e.http_status().map_or(0, jint::from),
            transient: e.is_transient(),
        }
    }

    /// An internal error of the binding (`PANIC`).
    fn internal(message: &'a str) -> Thrown<'a> {
        Thrown {
            status: STATUS_INTERNAL,
            message,
            return_code: None,
            return_msg: None,
            http_status: 0,
            transient: false,
        }
    }
}

/// Constructs and throws a `com.wxface.WxFaceException`. Its local references live in their own
/// frame.
fn throw_wxface(env: &mut Env<'_>, fields: &Thrown<'_>) -> Result<(), JniError> {
    env.with_local_frame(8, |env| -> Result<(), JniError> {
        let exception = new_wxface_exception(env, fields)?;
        match env.throw(&exception) {
            // `throw` reports success as "a Java exception is now pending".
            Ok(()) | Err(JniError::JavaException) => Ok(()),
            Err(e) => Err(e),
        }
    })
}

/// Constructs (without throwing) `com.wxface.WxFaceException(int, String, String, String, int,
/// boolean)`.
fn new_wxface_exception<'local>(
    env: &mut Env<'local>,
    fields: &Thrown<'_>,
) -> Result<JThrowable<'local>, JniError> {
    env.with_local_frame_returning_local::<_, JThrowable, _>(8, |env| {
        let message = env.new_string(fields.message)?;
        let return_code = optional_jstring(env, fields.return_code)?;
        let return_msg = optional_jstring(env, fields.return_msg)?;
        let exception = env.new_object(
            WXFACE_EXCEPTION,
            jni_sig!("(ILjava/lang/String;Ljava/lang/String;Ljava/lang/String;IZ)V"),
            &[
                JValue::Int(fields.status),
                JValue::from(&message),
                JValue::from(&return_code),
                JValue::from(&return_msg),
                JValue::Int(fields.http_status),
                JValue::Bool(fields.transient),
            ],
        )?;
        env.cast_local::<JThrowable>(exception)
    })
}

/// The `WxFaceException` for a core error, not thrown (a stale result's `refreshError`).
pub(super) fn core_exception<'local>(
    env: &mut Env<'local>,
    e: &Error,
) -> Result<JThrowable<'local>, JniError> {
    let message = e.to_string();
    new_wxface_exception(env, &Thrown::core(e, &message))
}

/// A Java string for an optional value (`null` for `None`).
pub(super) fn optional_jstring<'local>(
    env: &mut Env<'local>,
    value: Option<&str>,
) -> Result<JObject<'local>, JniError> {
    Ok(match value {
        Some(v) => env.new_string(v)?.into(),
        None => JObject::null(),
    })
}
