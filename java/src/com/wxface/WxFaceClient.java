package com.wxface;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A client for one merchant configuration, holding a native {@code libwxface} client: its HTTP
 * agent (repeated calls reuse connections), its authinfo cache (on by default: a fresh authinfo
 * for the same store and device is reused until close to expiry), the base URL that last worked
 * and the measured clock offset.
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
 * late or never (and a {@link WxFaceLogger} that refers to its own client keeps it reachable).
 *
 * <p>Calls block on the network: do not call {@link #getAuthinfo} on Android's main thread.
 */
public final class WxFaceClient implements AutoCloseable {
    /**
     * The native ABI these classes are written against: {@code WXFACE_ABI_VERSION} of the
     * {@code libwxface} they ship with. Loading checks that the library reports the same number.
     */
    static final int ABI_VERSION = 1;

    static {
        System.loadLibrary("wxface");
        checkAbi();
    }

    /**
     * Refuses a {@code libwxface} from another release than these classes (an app that updated
     * the jar but not {@code jniLibs/}, or the reverse): their native methods and the fields read
     * by name may not match. Thrown from the class initializer, so the first use of the binding
     * fails with this message rather than with a crash or a missing-method error later.
     */
    private static void checkAbi() {
        int nativeAbi;
        try {
            nativeAbi = nativeAbiVersion();
        } catch (UnsatisfiedLinkError e) {
            throw new UnsatisfiedLinkError("libwxface native ABI version mismatch: the loaded "
                    + "libwxface has no ABI version (a release older than these classes, which "
                    + "expect native ABI version " + ABI_VERSION + "); ship the libwxface.so and "
                    + "the classes of the same wxface release");
        }
        if (nativeAbi != ABI_VERSION) {
            String lib;
            try {
                lib = nativeVersion();
            } catch (UnsatisfiedLinkError e) {
                lib = "?";
            }
            throw new UnsatisfiedLinkError("libwxface native ABI version mismatch: the loaded "
                    + "libwxface " + lib + " has native ABI version " + nativeAbi
                    + ", these classes expect native ABI version " + ABI_VERSION
                    + "; ship the libwxface.so and the classes of the same wxface release");
        }
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
                return nativeCreate(config, key);
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
     * Exchanges the face SDK's rawdata for a verified authinfo, with {@link CallOptions#DEFAULT}:
     * while the cache is enabled (the default), an authinfo cached for the same store and device
     * is returned as long as it is fresh. Blocks for at most the configured timeout, every retry
     * included.
     *
     * @throws WxFaceException if the call failed: network, timeout, TLS, HTTP status, a bad or
     *     badly signed answer, or WeChat's own failure ({@link WxFaceException#getStatus()})
     * @throws NullPointerException if {@code request} is {@code null}
     * @throws IllegalArgumentException if a request value is refused; nothing was sent
     * @throws IllegalStateException if the client is closed
     */
    public Authinfo getAuthinfo(AuthinfoRequest request) throws WxFaceException {
        return getAuthinfo(request, CallOptions.DEFAULT);
    }

    /**
     * Like {@link #getAuthinfo(AuthinfoRequest)}, with options (force a refresh, bypass the
     * cache). The result tells where the authinfo came from ({@link Authinfo#isFromCache()},
     * {@link Authinfo#isStale()}), how long it stays valid and how many attempts were made.
     *
     * <p>Concurrent calls for one store/device share one request; calls for others are not held
     * up. If a refresh fails while the cached authinfo is still valid, that one is returned with
     * {@link Authinfo#isStale()} set and the failure in {@link Authinfo#getRefreshError()}; once
     * it has expired the failure is thrown.
     *
     * @throws WxFaceException if the call failed (see {@link #getAuthinfo(AuthinfoRequest)})
     * @throws NullPointerException if {@code request} or {@code options} is {@code null}
     * @throws IllegalArgumentException if a request value is refused; nothing was sent
     * @throws IllegalStateException if the client is closed
     */
    public Authinfo getAuthinfo(AuthinfoRequest request, CallOptions options)
            throws WxFaceException {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(options, "options");
        return withHandle(ptr -> nativeGetAuthinfo(ptr, request.getStoreId(),
                request.getStoreName(), request.getDeviceId(), request.getRawdata(),
                request.getAttach(), request.hasNow(), request.getNow(),
                options.isForceRefresh(), options.isUseCache()));
    }

    /**
     * Forgets every cached authinfo: the next call for each store/device asks WeChat. A refresh
     * in flight finishes, but its result is not kept.
     *
     * @throws IllegalStateException if the client is closed
     */
    public void clearCache() {
        withHandle(ptr -> {
            nativeClearCache(ptr);
            return null;
        });
    }

    /**
     * How many store/device identities have an authinfo cached (fresh, due for refresh or
     * expired).
     *
     * @throws IllegalStateException if the client is closed
     */
    public int getCachedCount() {
        return withHandle(WxFaceClient::nativeCachedCount);
    }

    /**
     * The offset in seconds this client adds to the system clock for {@code now}, as measured by
     * its last clock-skew correction (0 if none).
     *
     * @throws IllegalStateException if the client is closed
     */
    public long getClockOffsetSeconds() {
        return withHandle(WxFaceClient::nativeClockOffsetSeconds);
    }

    /** A native call on the live handle; {@code E} is what it throws (inferred per call site). */
    private interface NativeCall<T, E extends Exception> {
        T call(long ptr) throws E;
    }

    /** Calls {@code f} under the read lock, so {@link #close()} cannot free the handle meanwhile. */
    private <T, E extends Exception> T withHandle(NativeCall<T, E> f) throws E {
        Lock lock = handle.lock.readLock();
        lock.lock();
        try {
            long ptr = handle.ptr;
            if (ptr == 0) {
                throw new IllegalStateException("the WxFaceClient is closed");
            }
            return f.call(ptr);
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
     * Frees the native client (and releases the configured logger) after calls in progress have
     * finished. Idempotent.
     *
     * @throws IllegalStateException if called from inside a call on this client (from its
     *     {@link WxFaceLogger}), which would wait for itself
     */
    @Override
    public void close() {
        if (handle.lock.getReadHoldCount() > 0) {
            // The write lock can never be had while this thread holds the read lock.
            throw new IllegalStateException(
                    "close() called from inside a call on this WxFaceClient (from its logger)");
        }
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

    /** Reads the configuration's fields by name (see {@code proguard-rules.pro}). */
    private static native long nativeCreate(WxFaceConfig config, byte[] key);

    private static native void nativeFree(long handle);

    private static native Authinfo nativeGetAuthinfo(long handle, String storeId,
            String storeName, String deviceId, String rawdata, String attach, boolean hasNow,
            long now, boolean forceRefresh, boolean useCache) throws WxFaceException;

    private static native void nativeClearCache(long handle);

    private static native int nativeCachedCount(long handle);

    private static native long nativeClockOffsetSeconds(long handle);

    private static native String nativeVersion();

    /** {@code WXFACE_ABI_VERSION} of the loaded library ({@code wxface_abi_version()}). */
    private static native int nativeAbiVersion();
}
