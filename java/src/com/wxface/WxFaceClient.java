package com.wxface;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A client for one merchant configuration, holding a native {@code libwxface} client (its HTTP
 * agent, so repeated calls reuse connections).
 *
 * <pre>{@code
 * WxFaceConfig config = WxFaceConfig.builder("1900000109", "wx2421b1c4370ec43b", key)
 *         .signType(SignType.HMAC_SHA256)
 *         .build();
 * try (WxFaceClient client = new WxFaceClient(config)) {
 *     Authinfo info = client.getAuthinfo(
 *             new AuthinfoRequest("1001", "深圳南山店", "POS-01", rawdata));
 *     faceSdk.start(info.getAuthinfo());
 * } catch (WxFaceException e) {
 *     log(e.getStatusName() + " " + e.getReturnCode() + " " + e.getMessage());
 * }
 * }</pre>
 *
 * <p>Thread-safety: one client may be used by many threads at once. {@link #close()} waits for
 * calls in progress (at most the configured timeout) and then frees the native client; later
 * calls throw {@link IllegalStateException}. Closing twice is harmless. A client that is never
 * closed is freed after it becomes unreachable, but do close it: garbage collection may come
 * late or never.
 *
 * <p>Calls block on the network: do not call {@link #getAuthinfo} on Android's main thread.
 */
public final class WxFaceClient implements AutoCloseable {
    static {
        System.loadLibrary("wxface");
    }

    /** Native clients created and not yet freed (diagnostics and tests). */
    private static final AtomicInteger OPEN_HANDLES = new AtomicInteger();

    private final Handle handle;
    private final NativeCleaner.Ref cleaner;

    /**
     * Creates a client. The configuration is validated here.
     *
     * @throws NullPointerException if {@code config} is {@code null}
     * @throws IllegalArgumentException if a value is refused (the message names the field and
     *     never contains the key)
     * @throws IllegalStateException if the configuration's key was wiped
     */
    public WxFaceClient(final WxFaceConfig config) {
        Objects.requireNonNull(config, "config");
        long ptr = config.withKey(new WxFaceConfig.KeyUser() {
            @Override
            public long use(byte[] key) {
                return nativeCreate(config.getMchId(), config.getAppid(), key,
                        config.getSubMchId(), config.getSubAppid(), config.getBaseUrl(),
                        config.getSignType().wireName(), config.getConnectTimeoutMillis(),
                        config.getTimeoutMillis());
            }
        });
        if (ptr == 0) {
            // nativeCreate throws on failure; 0 without an exception would be a library bug.
            throw new IllegalStateException("libwxface returned no client");
        }
        OPEN_HANDLES.incrementAndGet();
        this.handle = new Handle(ptr);
        this.cleaner = NativeCleaner.register(this, handle);
    }

    /**
     * Exchanges the face SDK's rawdata for a verified authinfo. Blocks for at most the
     * configured timeout. Behaves like the Rust core's {@code Client::get_authinfo} with its
     * default options (the core may answer from its per store/device authinfo cache and retry
     * transient failures within the timeout).
     *
     * @throws WxFaceException if the call failed: network, timeout, TLS, HTTP status, a bad or
     *     badly signed answer, or WeChat's own failure ({@link WxFaceException#getStatus()})
     * @throws NullPointerException if {@code request} is {@code null}
     * @throws IllegalArgumentException if a request value is refused; nothing was sent
     * @throws IllegalStateException if the client is closed
     */
    public Authinfo getAuthinfo(AuthinfoRequest request) throws WxFaceException {
        Objects.requireNonNull(request, "request");
        Lock lock = handle.lock.readLock();
        lock.lock();
        try {
            long ptr = handle.ptr;
            if (ptr == 0) {
                throw new IllegalStateException("the WxFaceClient is closed");
            }
            return nativeGetAuthinfo(ptr, request.getStoreId(), request.getStoreName(),
                    request.getDeviceId(), request.getRawdata(), request.getAttach(),
                    request.hasNow(), request.getNow());
        } finally {
            lock.unlock();
        }
    }

    /** True once {@link #close()} has run. */
    public boolean isClosed() {
        Lock lock = handle.lock.readLock();
        lock.lock();
        try {
            return handle.ptr == 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Frees the native client after calls in progress have finished. Idempotent. Must not be
     * called from inside a call on this client (there is no callback that could).
     */
    @Override
    public void close() {
        cleaner.clean();
    }

    /** The version of the loaded native library, e.g. {@code "0.1.0"}. */
    public static String libraryVersion() {
        return nativeVersion();
    }

    static int openHandles() {
        return OPEN_HANDLES.get();
    }

    /** The native pointer and its lock; also the cleaner action, so it must not see the client. */
    private static final class Handle implements Runnable {
        final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
        long ptr; // guarded by lock

        Handle(long ptr) {
            this.ptr = ptr;
        }

        @Override
        public void run() {
            Lock w = lock.writeLock();
            w.lock();
            try {
                long p = ptr;
                ptr = 0;
                if (p != 0) {
                    nativeFree(p);
                    OPEN_HANDLES.decrementAndGet();
                }
            } finally {
                w.unlock();
            }
        }
    }

    private static native long nativeCreate(String mchId, String appid, byte[] key,
            String subMchId, String subAppid, String baseUrl, String signType,
            long connectTimeoutMillis, long timeoutMillis);

    private static native void nativeFree(long handle);

    private static native Authinfo nativeGetAuthinfo(long handle, String storeId,
            String storeName, String deviceId, String rawdata, String attach, boolean hasNow,
            long now) throws WxFaceException;

    private static native String nativeVersion();
}
