//! The `WxFaceClient` natives: create, free, call, cache and clock.

use ::jni::errors::Error as JniError;
use ::jni::objects::{JByteArray, JClass, JObject, JString, JValue};
use ::jni::strings::JNIStr;
use ::jni::sys::{jboolean, jint, jlong};
use ::jni::{Env, EnvUnowned, jni_sig, jni_str};

use super::config::read_config;
use super::error::{Failure, ThrowJava, core_exception, optional_jstring};
use super::strings::{read_string, required_string};
use crate::{AuthinfoRequest, AuthinfoResult, CallOptions, Client};

const AUTHINFO_CLASS: &JNIStr = jni_str!("com/wxface/Authinfo");

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

/// `static native int nativeAbiVersion()`: [`WXFACE_ABI_VERSION`](crate::ffi::WXFACE_ABI_VERSION),
/// which the Java classes compare with their own `ABI_VERSION` when they load the library.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_wxface_WxFaceClient_nativeAbiVersion<'local>(
    _env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> jint {
    // A constant: nothing can panic or fail here, so no JNI call and no exception.
    crate::ffi::WXFACE_ABI_VERSION as jint
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
