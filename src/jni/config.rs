//! Reads a `com.wxface.WxFaceConfig` into the core's [`ConfigBuilder`]: each field that was set
//! is converted and passed to the builder's setter of the same name; `build()` validates, so
//! defaults, limits and messages are the core's, the same as through the C API.

use std::time::Duration;

use ::jni::objects::{JByteArray, JObject, JObjectArray, JString};
use ::jni::signature::{FieldSignature, MethodSignature};
use ::jni::strings::JNIStr;
use ::jni::sys::{jint, jlong};
use ::jni::{Env, jni_sig, jni_str};
use zeroize::Zeroizing;

use super::error::Failure;
use super::log::java_logger;
use super::strings::read_string;
use crate::{ApiKey, CacheOptions, Config, ConfigBuilder, Error, Level, SignType, TrustStore};

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

/// Reads a boxed field (`Long`, `Integer`, `Boolean`) of `obj`: `None` when it is `null`
/// (not set). `class` is the field's type signature, `unbox`/`unbox_sig` its value method.
fn field_boxed<'s, T>(
    env: &mut Env<'_>,
    obj: &JObject<'_>,
    name: &JNIStr,
    class: impl AsRef<FieldSignature<'s>>,
    unbox: &JNIStr,
    unbox_sig: impl AsRef<MethodSignature<'s, 's>>,
    get: impl FnOnce(::jni::objects::JValueOwned<'_>) -> Result<T, ::jni::errors::Error>,
) -> Result<Option<T>, Failure> {
    env.with_local_frame(4, |env| -> Result<Option<T>, Failure> {
        let value = env.get_field(obj, name, class)?.l()?;
        if value.is_null() {
            return Ok(None);
        }
        Ok(Some(get(env.call_method(
            &value,
            unbox,
            unbox_sig,
            &[],
        )?)?))
    })
}

fn field_long(
    env: &mut Env<'_>,
    obj: &JObject<'_>,
    name: &JNIStr,
) -> Result<Option<jlong>, Failure> {
    let (class, unbox, sig) = (
        jni_sig!("Ljava/lang/Long;"),
        jni_str!("longValue"),
        jni_sig!("()J"),
    );
    field_boxed(env, obj, name, class, unbox, sig, |v| v.j())
}

fn field_int(env: &mut Env<'_>, obj: &JObject<'_>, name: &JNIStr) -> Result<Option<jint>, Failure> {
    let (class, unbox, sig) = (
        jni_sig!("Ljava/lang/Integer;"),
        jni_str!("intValue"),
        jni_sig!("()I"),
    );
    field_boxed(env, obj, name, class, unbox, sig, |v| v.i())
}

fn field_bool(
    env: &mut Env<'_>,
    obj: &JObject<'_>,
    name: &JNIStr,
) -> Result<Option<bool>, Failure> {
    let (class, unbox, sig) = (
        jni_sig!("Ljava/lang/Boolean;"),
        jni_str!("booleanValue"),
        jni_sig!("()Z"),
    );
    field_boxed(env, obj, name, class, unbox, sig, |v| v.z())
}

/// A Java count (milliseconds, seconds, retries) as a non-negative number; Java has signed
/// types only, so a negative value is refused here, naming the field.
fn unsigned(field: &'static str, value: i64) -> Result<u64, Failure> {
    u64::try_from(value).map_err(|_| {
        Failure::Core(Error::invalid(
            field,
            format!("must not be negative, got {value}"),
        ))
    })
}

fn millis(field: &'static str, value: jlong) -> Result<Duration, Failure> {
    Ok(Duration::from_millis(unsigned(field, value)?))
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

/// Builds the [`Config`] from a `com.wxface.WxFaceConfig` and the key: every field that was set
/// goes to the [`ConfigBuilder`] setter of the same name, and [`ConfigBuilder::build`] checks
/// the whole.
pub(super) fn read_config(
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
        let string = |env: &mut Env<'_>, name, field| field_string(env, config, name, field);
        let mut b = ConfigBuilder::new();
        // Relay mode (WxFaceConfig.relayBuilder): the terminal has no key.
        if let Some(url) = string(env, jni_str!("relayUrl"), "relay_url")? {
            b = b.relay_url(url);
            if let Some(t) = string(env, jni_str!("relayToken"), "relay_token")? {
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
        if let Some(v) = string(env, jni_str!("mchId"), "mch_id")? {
            b = b.mch_id(v);
        }
        if let Some(v) = string(env, jni_str!("appid"), "appid")? {
            b = b.appid(v);
        }
        if let Some(v) = string(env, jni_str!("subMchId"), "sub_mch_id")? {
            b = b.sub_mch_id(v);
        }
        if let Some(v) = string(env, jni_str!("subAppid"), "sub_appid")? {
            b = b.sub_appid(v);
        }
        if let Some(v) = string(env, jni_str!("baseUrl"), "base_url")? {
            b = b.base_url(v);
        }
        let fallbacks = field_string_array(
            env,
            config,
            jni_str!("fallbackBaseUrls"),
            "fallback_base_url",
            "fallbackBaseUrls element",
        )?;
        for url in fallbacks {
            b = b.fallback_base_url(url);
        }
        if let Some(name) = string(env, jni_str!("signTypeName"), "sign_type")? {
            b = b.sign_type(
                SignType::from_wire(&name)
                    .ok_or_else(|| Error::invalid("sign_type", "must be MD5 or HMAC-SHA256"))?,
            );
        }
        if let Some(v) = field_long(env, config, jni_str!("connectTimeoutMillis"))? {
            b = b.connect_timeout(millis("connect_timeout", v)?);
        }
        if let Some(v) = field_long(env, config, jni_str!("timeoutMillis"))? {
            b = b.timeout(millis("timeout", v)?);
        }
        if let Some(v) = field_long(env, config, jni_str!("attemptTimeoutMillis"))? {
            b = b.attempt_timeout(millis("attempt_timeout", v)?);
        }
        if let Some(v) = field_int(env, config, jni_str!("maxRetries"))? {
            let v = unsigned("max_retries", v.into())?;
            b = b.max_retries(u32::try_from(v).unwrap_or(u32::MAX));
        }
        if let Some(v) = field_int(env, config, jni_str!("maxIdleConnections"))? {
            let v = unsigned("max_idle_connections", v.into())?;
            b = b.max_idle_connections(u32::try_from(v).unwrap_or(u32::MAX));
        }
        let initial = field_long(env, config, jni_str!("backoffInitialMillis"))?;
        let max = field_long(env, config, jni_str!("backoffMaxMillis"))?;
        if let (Some(initial), Some(max)) = (initial, max) {
            b = b.backoff(millis("backoff", initial)?, millis("backoff", max)?);
        }
        if let Some(v) = field_bool(env, config, jni_str!("clockSkewCorrection"))? {
            b = b.clock_skew_correction(v);
        }
        let enabled = field_bool(env, config, jni_str!("cache"))?;
        let margin = field_long(env, config, jni_str!("cacheRefreshMarginSeconds"))?;
        if enabled.is_some() || margin.is_some() {
            b = b.cache_options(CacheOptions {
                enabled: enabled.unwrap_or(CacheOptions::default().enabled),
                refresh_margin: match margin {
                    Some(s) => Some(Duration::from_secs(unsigned("cache_refresh_margin", s)?)),
                    None => None,
                },
            });
        }
        if let Some(url) = string(env, jni_str!("proxy"), "proxy")? {
            b = b.proxy(url);
        }
        if let Some(user) = string(env, jni_str!("proxyUser"), "proxy_username")? {
            let password = Zeroizing::new(
                string(env, jni_str!("proxyPassword"), "proxy_password")?
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
        if let Some(v) = field_bool(env, config, jni_str!("builtinRoots"))? {
            b = b.builtin_roots(v);
        }
        if let Some(code) = field_int(env, config, jni_str!("trustStoreCode"))? {
            let store = u32::try_from(code)
                .ok()
                .and_then(TrustStore::from_code)
                .ok_or_else(|| Error::invalid("trust_store", format!("{code} is not a store")))?;
            b = b.trust_store(store);
        }
        if let Some(path) = string(env, jni_str!("systemCaPath"), "system_ca_path")? {
            b = b.system_ca_path(path);
        }
        if let Some(v) = field_bool(env, config, jni_str!("userCas"))? {
            b = b.user_cas(v);
        }
        if let Some(path) = string(env, jni_str!("userCaPath"), "user_ca_path")? {
            b = b.user_ca_path(path);
        }
        if let Some(level) = field_int(env, config, jni_str!("logLevel"))? {
            let level = u32::try_from(level)
                .ok()
                .and_then(Level::from_u32)
                .ok_or_else(|| Error::invalid("log_level", format!("{level} is not a level")))?;
            b = b.log_level(level);
        }
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
