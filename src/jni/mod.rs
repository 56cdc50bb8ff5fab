//! JNI binding: the native half of the `com.wxface` Java API in `java/`.
//!
//! Android apps `System.loadLibrary("wxface")` and call these exports through
//! `com.wxface.WxFaceClient`. They call the Rust core directly (not the C ABI) and keep to a thin
//! conversion layer: Java arguments → [`Config`] / [`AuthinfoRequest`] / [`CallOptions`],
//! [`Client::get_authinfo_with`], result → `com.wxface.Authinfo`, error → a Java exception.
//!
//! Files: [`config`] (reading `WxFaceConfig` into the core's `ConfigBuilder`), [`client`] (the
//! `WxFaceClient` natives), [`error`] (failures → Java exceptions, the panic boundary), [`log`]
//! (the logger bridge), [`strings`] (Java strings in and out).
//!
//! Configuration: `nativeCreate(WxFaceConfig config, byte[] key)` reads the configuration's
//! private fields by name (`config::read_config`, every read in a local frame), so a new option adds a
//! field, not a parameter. The field names are kept by `java/proguard-rules.pro`.
//!
//! Logging: a configured `WxFaceLogger` reaches the core as a [`LogFn`] closure (`log::java_logger`)
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

mod client;
mod config;
mod error;
mod log;
mod strings;

// Test-only natives of com.wxface.WxFaceTest, in debug builds only.
#[cfg(debug_assertions)]
mod test_hooks;
