package com.wxface;

import java.lang.ref.WeakReference;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * End-to-end test of the Java binding against a running wxface-mock (java/test.sh starts it).
 *
 * <pre>java -Xcheck:jni -Djava.library.path=target/debug -cp ... com.wxface.WxFaceTest BASE_URL [KEY]</pre>
 *
 * The field-option tests need the extra mocks java/test.sh starts, passed as system properties:
 * {@code wxface.test.flakyUrl} (--fail-first 2), {@code wxface.test.skewUrl}
 * (--clock-offset-secs 1000), {@code wxface.test.tlsUrl} and {@code wxface.test.tlsCa} (--tls-dir),
 * {@code wxface.test.shortUrl} (--expires-in 2), {@code wxface.test.tlsAndroidDir} (the test CA
 * laid out like Android's cacerts) and {@code wxface.test.tlsEmptyDir} (no certificate).
 *
 * Prints one line per test and a last line "N passed, M failed"; exits 1 if anything failed.
 */
public final class WxFaceTest {
    static final String MOCK_KEY = "wxfacemock0123456789abcdefABCDEF";
    static final String MCH_ID = "1900000109";
    static final String APPID = "wx2421b1c4370ec43b";
    static final String RAWDATA =
            "AAQ+ZGF0YS/9ZmFjZS1zZGsrcmF3ZGF0YT09" + "x7Kp2+Lm/Qw==" + "abc+def/ghi=";

    private static String baseUrl;
    private static byte[] key;
    private static int passed;
    private static int failed;

    /** Debug builds of libwxface export this: it panics inside an export. */
    static native long nativePanicProbe() throws WxFaceException;

    /** Debug builds of libwxface export this: calls config's logger from a native thread. */
    static native int nativeLogFromNativeThread(WxFaceConfig config, int lines);

    interface Body {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: WxFaceTest BASE_URL [KEY]");
            System.exit(2);
        }
        baseUrl = args[0];
        key = (args.length > 1 ? args[1] : MOCK_KEY).getBytes(StandardCharsets.US_ASCII);

        test("library version", () -> check(WxFaceClient.libraryVersion().matches("\\d+\\.\\d+\\.\\d+.*"),
                "version " + WxFaceClient.libraryVersion()));
        test("success with HMAC-SHA256", () -> successWith(SignType.HMAC_SHA256));
        test("success with MD5", () -> successWith(SignType.MD5));
        test("success in service-provider mode echoes sub ids", WxFaceTest::serviceProvider);
        test("success with Chinese store name, attach with markup, explicit now", WxFaceTest::unicodeAndAttach);
        test("remote failure: signed ERROR with its return_msg", () -> remote("MOCK:signed-error",
                "ERROR", "无效的RawData数据"));
        test("remote failure: signed SYSTEMERROR", () -> remote("MOCK:signed-system-error",
                "SYSTEMERROR", "生成authinfo失败"));
        test("remote failure: wrong key gives unsigned PARAM_ERROR 签名错误", WxFaceTest::wrongKey);
        test("tampered response signature is rejected", () -> failsWith("MOCK:tampered-sign",
                WxFaceException.SIGNATURE));
        test("missing response signature is rejected", () -> failsWith("MOCK:missing-sign",
                WxFaceException.SIGNATURE));
        test("answer for another mch_id is rejected", () -> failsWith("MOCK:wrong-mch-id",
                WxFaceException.BAD_RESPONSE));
        test("HTTP 500", () -> failsWith("MOCK:http-500", WxFaceException.HTTP_STATUS));
        test("not XML", () -> failsWith("MOCK:not-xml", WxFaceException.BAD_RESPONSE));
        test("timeout", WxFaceTest::timeout);
        test("connection refused", WxFaceTest::refused);
        test("null arguments throw NullPointerException", WxFaceTest::nullArguments);
        test("empty and invalid arguments throw IllegalArgumentException", WxFaceTest::invalidArguments);
        test("bad configuration values give the same messages as C", WxFaceTest::sameMessagesAsC);
        test("invalid key is refused without echoing it", WxFaceTest::invalidKey);
        test("closed client throws IllegalStateException; close twice is harmless", WxFaceTest::closedClient);
        test("close waits for a call in flight", WxFaceTest::closeDuringCall);
        test("wiped config key cannot create clients", WxFaceTest::wipedKey);
        test("8 threads x 50 calls on one client", WxFaceTest::concurrent);
        test("failure paths in a loop (local references)", WxFaceTest::failureLoop);
        test("Rust panic becomes WxFaceException status 10", WxFaceTest::panicProbe);
        test("unclosed clients are freed by the cleaner", WxFaceTest::cleaner);
        test("config builder: every option, defaults, toString hides key and proxy password",
                WxFaceTest::configOptions);
        test("config builder: refused option values", WxFaceTest::invalidOptions);
        test("cache: hit, forced refresh, bypass, clearCache", WxFaceTest::cacheHitRefreshClear);
        test("cache(false): every call asks WeChat", WxFaceTest::cacheDisabled);
        test("stale authinfo served when a refresh fails", WxFaceTest::staleOnRefreshFailure);
        test("short-lived authinfo: refreshed after the margin, error once expired",
                WxFaceTest::shortLived);
        test("retries: succeeds after 2 failures with attempts == 3", WxFaceTest::retries);
        test("maxRetries(0): one attempt only", WxFaceTest::noRetries);
        test("clock skew corrected (offset about 1000 s)", WxFaceTest::clockSkew);
        test("clock skew correction disabled: PARAM_ERROR", WxFaceTest::clockSkewDisabled);
        test("fallback URL after a refused primary", WxFaceTest::fallback);
        test("HTTPS with caPem, caFile, builtinRoots(false)", WxFaceTest::httpsWithCa);
        test("HTTPS without the test CA: status 4 (TLS)", WxFaceTest::httpsWithoutCa);
        test("bad CA PEM and missing CA file are refused", WxFaceTest::badCa);
        test("trust stores: SYSTEM and BOTH from an Android-style directory, user CAs",
                WxFaceTest::trustStores);
        test("trust stores: unusable stores refused naming the field", WxFaceTest::badTrustStores);
        test("proxy on a refused loopback port: status 2", WxFaceTest::proxyRefused);
        test("logger: INFO/DEBUG lines for attempts and cache hits, no secrets", WxFaceTest::logger);
        test("logger: WARN and ERROR lines for retries and failures", WxFaceTest::loggerFailures);
        test("logger level filter", WxFaceTest::loggerLevel);
        test("a logger that throws does not break the call", WxFaceTest::throwingLogger);
        test("logger calls from 8 threads", WxFaceTest::loggerConcurrent);
        test("logger released when the client is closed", WxFaceTest::loggerReleased);
        test("logger called from a native thread (attached, exceptions cleared)",
                WxFaceTest::loggerNativeThread);
        test("all handles freed at the end", () -> check(WxFaceClient.openHandles() == 0,
                "open handles: " + WxFaceClient.openHandles()));

        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }

    static void test(String name, Body body) {
        try {
            body.run();
            passed++;
            System.out.println("ok   - " + name);
        } catch (Throwable t) {
            failed++;
            System.out.println("FAIL - " + name + ": " + t);
            t.printStackTrace(System.out);
        }
    }

    static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    static void checkEq(Object expected, Object actual, String what) {
        if (expected == null ? actual != null : !expected.equals(actual)) {
            throw new AssertionError(what + ": expected <" + expected + "> but was <" + actual + ">");
        }
    }

    static WxFaceConfig.Builder config() {
        return WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(baseUrl);
    }

    static AuthinfoRequest request(String rawdata) {
        return new AuthinfoRequest("1001", "Shenzhen Nanshan", "POS-01", rawdata);
    }

    static void checkAuthinfo(Authinfo info) {
        check(info.getAuthinfo().startsWith("MOCKAUTHINFO") && info.getAuthinfo().length() > 12,
                "authinfo " + info);
        checkEq(3600L, info.getExpiresIn(), "expiresIn");
        checkEq(APPID, info.getAppid(), "appid");
        checkEq(MCH_ID, info.getMchId(), "mchId");
        check(!info.toString().contains(info.getAuthinfo()), "toString hides the authinfo");
    }

    static void successWith(SignType signType) throws Exception {
        try (WxFaceClient client = new WxFaceClient(config().signType(signType).build())) {
            Authinfo info = client.getAuthinfo(request(RAWDATA));
            checkAuthinfo(info);
            checkEq(null, info.getSubAppid(), "subAppid");
            checkEq(null, info.getSubMchId(), "subMchId");
            // A second call on the same client works too (the core may answer it from its
            // authinfo cache); a different device gets its own authinfo.
            checkAuthinfo(client.getAuthinfo(request(RAWDATA)));
            Authinfo other = client.getAuthinfo(
                    new AuthinfoRequest("1001", "Shenzhen Nanshan", "POS-02", RAWDATA));
            checkAuthinfo(other);
            check(!other.getAuthinfo().equals(info.getAuthinfo()), "another device, another authinfo");
        }
    }

    static void serviceProvider() throws Exception {
        WxFaceConfig config = config().subMchId("1230000109").subAppid("wx8888888888888888")
                .signType(SignType.MD5).build();
        try (WxFaceClient client = new WxFaceClient(config)) {
            Authinfo info = client.getAuthinfo(request(RAWDATA));
            checkAuthinfo(info);
            checkEq("1230000109", info.getSubMchId(), "subMchId");
            checkEq("wx8888888888888888", info.getSubAppid(), "subAppid");
        }
    }

    static void unicodeAndAttach() throws Exception {
        try (WxFaceClient client = new WxFaceClient(config().build())) {
            long now = System.currentTimeMillis() / 1000;
            AuthinfoRequest req = new AuthinfoRequest("门店-1001", "深圳南山店 & <旗舰>", "POS-01", RAWDATA)
                    .withAttach("{\"lane\":3,\"note\":\"]]> & <x>\"}")
                    .withNow(now);
            // The mock verifies the request signature over the UTF-8 bytes: success proves the
            // strings crossed JNI intact.
            checkAuthinfo(client.getAuthinfo(req));
            check(!req.toString().contains(RAWDATA), "toString hides the rawdata");
        }
    }

    static void remote(String rawdata, String code, String msg) throws Exception {
        try (WxFaceClient client = new WxFaceClient(config().build())) {
            try {
                client.getAuthinfo(request(rawdata));
                throw new AssertionError("expected a WxFaceException");
            } catch (WxFaceException e) {
                checkEq(WxFaceException.REMOTE, e.getStatus(), "status");
                checkEq("WXFACE_ERR_REMOTE", e.getStatusName(), "status name");
                check(e.isRemote(), "isRemote");
                checkEq(code, e.getReturnCode(), "returnCode");
                checkEq(msg, e.getReturnMsg(), "returnMsg");
                checkEq(code.equals("SYSTEMERROR"), e.isTransient(), "isTransient (C's rule)");
                checkEq(0, e.getHttpStatus(), "httpStatus");
                check(e.getMessage().contains(msg) && e.getMessage().contains(code),
                        "message carries WeChat's answer: " + e.getMessage());
            }
        }
    }

    static void wrongKey() throws Exception {
        byte[] other = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        try (WxFaceClient client = new WxFaceClient(
                WxFaceConfig.builder(MCH_ID, APPID, other).baseUrl(baseUrl).build())) {
            try {
                client.getAuthinfo(request(RAWDATA));
                throw new AssertionError("expected a WxFaceException");
            } catch (WxFaceException e) {
                checkEq(WxFaceException.REMOTE, e.getStatus(), "status");
                checkEq("PARAM_ERROR", e.getReturnCode(), "returnCode");
                checkEq("签名错误", e.getReturnMsg(), "returnMsg");
                check(!e.getMessage().contains("0123456789abcdef"), "message hides the key");
            }
        }
    }

    static WxFaceException expectFailure(WxFaceClient client, String rawdata) {
        try {
            Authinfo info = client.getAuthinfo(request(rawdata));
            throw new AssertionError("expected a WxFaceException, got " + info);
        } catch (WxFaceException e) {
            return e;
        }
    }

    static void failsWith(String rawdata, int status) throws Exception {
        try (WxFaceClient client = new WxFaceClient(config().build())) {
            WxFaceException e = expectFailure(client, rawdata);
            checkEq(status, e.getStatus(), "status (" + e + ")");
            // The same verdicts as wxface_last_error_http_status / wxface_status_is_transient.
            boolean http500 = rawdata.equals("MOCK:http-500");
            checkEq(http500 ? 500 : 0, e.getHttpStatus(), "httpStatus");
            checkEq(http500 || status == WxFaceException.NETWORK
                    || status == WxFaceException.TIMEOUT, e.isTransient(), "isTransient");
            checkEq(null, e.getReturnCode(), "returnCode");
            checkEq(null, e.getReturnMsg(), "returnMsg");
            check(e.getMessage() != null && !e.getMessage().isEmpty(), "message");
            check(!e.getMessage().contains(MOCK_KEY), "message hides the key");
            // The client is still usable after a failure.
            checkAuthinfo(client.getAuthinfo(request(RAWDATA)));
        }
    }

    static void timeout() throws Exception {
        try (WxFaceClient client = new WxFaceClient(config().timeoutMillis(400).build())) {
            long start = System.nanoTime();
            WxFaceException e = expectFailure(client, "MOCK:hang");
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            checkEq(WxFaceException.TIMEOUT, e.getStatus(), "status (" + e + ")");
            // Only catches a hang: the deadline itself is tested with counts in the Rust suite.
            check(ms < 30_000, "returned after " + ms + " ms");
        }
    }

    static void refused() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        WxFaceConfig config = WxFaceConfig.builder(MCH_ID, APPID, key)
                .baseUrl("http://127.0.0.1:" + port).connectTimeoutMillis(1000).build();
        try (WxFaceClient client = new WxFaceClient(config)) {
            WxFaceException e = expectFailure(client, RAWDATA);
            checkEq(WxFaceException.NETWORK, e.getStatus(), "status (" + e + ")");
        }
    }

    static void expectThrows(Class<? extends Throwable> type, String what, Body body) {
        try {
            body.run();
        } catch (Throwable t) {
            if (!type.isInstance(t)) {
                throw new AssertionError(what + ": expected " + type.getSimpleName() + ", got " + t, t);
            }
            if (t.getMessage() == null || t.getMessage().isEmpty()) {
                throw new AssertionError(what + ": no message in " + t);
            }
            return;
        }
        throw new AssertionError(what + ": expected " + type.getSimpleName() + ", nothing thrown");
    }

    static void nullArguments() throws Exception {
        Class<NullPointerException> npe = NullPointerException.class;
        expectThrows(npe, "mchId", () -> WxFaceConfig.builder(null, APPID, key));
        expectThrows(npe, "appid", () -> WxFaceConfig.builder(MCH_ID, null, key));
        expectThrows(npe, "key", () -> WxFaceConfig.builder(MCH_ID, APPID, null));
        expectThrows(npe, "baseUrl", () -> config().baseUrl(null));
        expectThrows(npe, "signType", () -> config().signType(null));
        expectThrows(npe, "config", () -> new WxFaceClient(null));
        expectThrows(npe, "storeId", () -> new AuthinfoRequest(null, "s", "d", "r"));
        expectThrows(npe, "storeName", () -> new AuthinfoRequest("1", null, "d", "r"));
        expectThrows(npe, "deviceId", () -> new AuthinfoRequest("1", "s", null, "r"));
        expectThrows(npe, "rawdata", () -> new AuthinfoRequest("1", "s", "d", null));
        // Optional values accept null.
        checkEq(null, request(RAWDATA).withAttach(null).getAttach(), "attach");
        checkEq(null, config().subMchId(null).build().getSubMchId(), "subMchId");
        try (WxFaceClient client = new WxFaceClient(config().build())) {
            expectThrows(npe, "request", () -> client.getAuthinfo(null));
            // The native side checks nulls too (bypassing the Java checks), before the handle.
            expectThrows(npe, "native storeId",
                    () -> invokeNativeGet(0L, null, "s", "d", "r", null, false, 0L, false, true));
            expectThrows(npe, "native rawdata",
                    () -> invokeNativeGet(0L, "1", "s", "d", null, null, false, 0L, false, true));
            expectThrows(npe, "options", () -> client.getAuthinfo(request(RAWDATA), null));
            checkAuthinfo(client.getAuthinfo(request(RAWDATA)));
        }
        // nativeCreate checks its arguments too.
        expectThrows(npe, "native config", () -> invokeNativeCreate(null, key));
        expectThrows(npe, "native key", () -> invokeNativeCreate(config().build(), null));
    }

    static Object invokeNativeCreate(WxFaceConfig config, byte[] k) throws Exception {
        java.lang.reflect.Method m = WxFaceClient.class.getDeclaredMethod("nativeCreate",
                WxFaceConfig.class, byte[].class);
        m.setAccessible(true);
        try {
            return m.invoke(null, config, k);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw (Exception) e.getCause();
        }
    }

    /** Calls the private native method directly, unwrapping reflection's wrapper. */
    static Object invokeNativeGet(Object... args) throws Exception {
        java.lang.reflect.Method m = WxFaceClient.class.getDeclaredMethod("nativeGetAuthinfo",
                long.class, String.class, String.class, String.class, String.class, String.class,
                boolean.class, long.class, boolean.class, boolean.class);
        m.setAccessible(true);
        try {
            return m.invoke(null, args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw (Exception) e.getCause();
        }
    }

    static void invalidArguments() throws Exception {
        Class<IllegalArgumentException> iae = IllegalArgumentException.class;
        // Configuration values: refused when the client is created.
        expectField("mch_id", () -> new WxFaceClient(WxFaceConfig.builder("", APPID, key).baseUrl(baseUrl).build()));
        expectField("appid", () -> new WxFaceClient(WxFaceConfig.builder(MCH_ID, "", key).baseUrl(baseUrl).build()));
        expectField("sub_mch_id", () -> new WxFaceClient(config().subMchId("x\u0001").build()));
        expectField("base_url", () -> new WxFaceClient(config().baseUrl("http://example.com").build()));
        expectField("timeout", () -> new WxFaceClient(config().timeoutMillis(0).build()));
        expectField("connect_timeout", () -> new WxFaceClient(config().connectTimeoutMillis(-5).build()));
        int before = WxFaceClient.openHandles();
        try (WxFaceClient client = new WxFaceClient(config().build())) {
            // Request values: refused before anything is sent.
            expectField("store_id", () -> client.getAuthinfo(new AuthinfoRequest("", "s", "d", RAWDATA)));
            expectField("store_name", () -> client.getAuthinfo(new AuthinfoRequest("1", "", "d", RAWDATA)));
            expectField("device_id", () -> client.getAuthinfo(new AuthinfoRequest("1", "s", "", RAWDATA)));
            expectField("rawdata", () -> client.getAuthinfo(new AuthinfoRequest("1", "s", "d", "")));
            expectField("store_name", () -> client.getAuthinfo(new AuthinfoRequest("1", repeat('x', 129), "d", RAWDATA)));
            expectField("store_id", () -> client.getAuthinfo(new AuthinfoRequest(repeat('1', 33), "s", "d", RAWDATA)));
            expectField("rawdata", () -> client.getAuthinfo(new AuthinfoRequest("1", "s", "d", repeat('r', 2049))));
            expectField("store_name", () -> client.getAuthinfo(new AuthinfoRequest("1", "店\uD83D\uDE00", "d", RAWDATA)));
            expectField("store_name", () -> client.getAuthinfo(new AuthinfoRequest("1", "lone \uD83D", "d", RAWDATA)));
            expectField("device_id", () -> client.getAuthinfo(new AuthinfoRequest("1", "s", "a\u0000b", RAWDATA)));
            expectField("device_id", () -> client.getAuthinfo(new AuthinfoRequest("1", "s", "a\nb", RAWDATA)));
            expectField("attach", () -> client.getAuthinfo(request(RAWDATA).withAttach("\uD83D\uDE00")));
            expectField("now", () -> client.getAuthinfo(request(RAWDATA).withNow(System.currentTimeMillis())));
            expectField("now", () -> client.getAuthinfo(request(RAWDATA).withNow(0)));
            checkAuthinfo(client.getAuthinfo(request(RAWDATA)));
        }
        checkEq(before, WxFaceClient.openHandles(), "failed creations leak no handle");
    }

    static void expectField(String field, Body body) {
        try {
            body.run();
        } catch (IllegalArgumentException e) {
            check(e.getMessage() != null && e.getMessage().contains(field),
                    "message names " + field + ": " + e.getMessage());
            return;
        } catch (Throwable t) {
            throw new AssertionError(field + ": expected IllegalArgumentException, got " + t, t);
        }
        throw new AssertionError(field + ": expected IllegalArgumentException, nothing thrown");
    }

    static void invalidKey() {
        String secretish = "SECRETKEY-31-bytes-long-0123456";
        for (String k : new String[] {secretish, secretish + "XY", "", "é" + secretish.substring(2)}) {
            byte[] bytes = k.getBytes(StandardCharsets.UTF_8);
            try {
                new WxFaceClient(WxFaceConfig.builder(MCH_ID, APPID, bytes).baseUrl(baseUrl).build()).close();
                throw new AssertionError("key of " + bytes.length + " bytes accepted");
            } catch (IllegalArgumentException e) {
                check(e.getMessage().contains("api_key"), "names api_key: " + e.getMessage());
                check(!e.getMessage().contains("SECRETKEY"), "message hides the key: " + e.getMessage());
            }
        }
        byte[] nonUtf8 = new byte[32];
        Arrays.fill(nonUtf8, (byte) 0xff);
        expectThrows(IllegalArgumentException.class, "non-UTF-8 key",
                () -> new WxFaceClient(WxFaceConfig.builder(MCH_ID, APPID, nonUtf8).build()));
    }

    static void closedClient() throws Exception {
        WxFaceClient client = new WxFaceClient(config().build());
        checkAuthinfo(client.getAuthinfo(request(RAWDATA)));
        check(!client.isClosed(), "open");
        client.close();
        check(client.isClosed(), "closed");
        expectThrows(IllegalStateException.class, "call after close",
                () -> client.getAuthinfo(request(RAWDATA)));
        client.close();
        client.close();
        expectThrows(IllegalStateException.class, "call after closing three times",
                () -> client.getAuthinfo(request(RAWDATA)));
        // The native side refuses a zero handle as well.
        expectThrows(IllegalStateException.class, "native handle 0",
                () -> invokeNativeGet(0L, "1", "s", "d", RAWDATA, null, false, 0L, false, true));
    }

    static void closeDuringCall() throws Exception {
        // The logger runs inside the native call, under the handle's read lock: its DEBUG
        // "attempt" line says the call is in flight, its ERROR line that it is ending. Both
        // order the events without a sleep.
        final CountDownLatch inFlight = new CountDownLatch(1);
        final AtomicInteger ended = new AtomicInteger();
        WxFaceLogger probe = (level, message) -> {
            if (message.startsWith("attempt ")) {
                inFlight.countDown();
            } else if (level == WxFaceLogger.Level.ERROR) {
                ended.incrementAndGet();
            }
        };
        final WxFaceClient client = new WxFaceClient(config().timeoutMillis(800).maxRetries(0)
                .logger(probe, WxFaceLogger.Level.DEBUG).build());
        final Throwable[] outcome = new Throwable[1];
        Thread caller = new Thread(() -> {
            try {
                client.getAuthinfo(request("MOCK:hang"));
            } catch (Throwable t) {
                outcome[0] = t;
            }
        });
        caller.start();
        check(inFlight.await(30, TimeUnit.SECONDS), "the call reached the network");
        client.close(); // must wait for the call, not free the client under it
        checkEq(1, ended.get(), "close returned only after the call in flight had ended");
        caller.join(30_000);
        check(!caller.isAlive(), "caller finished");
        check(outcome[0] instanceof WxFaceException
                && ((WxFaceException) outcome[0]).getStatus() == WxFaceException.TIMEOUT,
                "in-flight call ended with its own timeout: " + outcome[0]);
        expectThrows(IllegalStateException.class, "after close", () -> client.getAuthinfo(request(RAWDATA)));
    }

    static void wipedKey() throws Exception {
        WxFaceConfig config = config().build();
        new WxFaceClient(config).close();
        config.wipeKey();
        expectThrows(IllegalStateException.class, "wiped", () -> new WxFaceClient(config));
        check(!config.toString().contains(MOCK_KEY), "toString hides the key");
    }

    static void concurrent() throws Exception {
        final int threads = 8;
        final int calls = 50;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (final WxFaceClient client = new WxFaceClient(config().build())) {
            final CountDownLatch go = new CountDownLatch(1);
            final AtomicInteger ok = new AtomicInteger();
            List<Future<List<String>>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int id = t;
                futures.add(pool.submit(new Callable<List<String>>() {
                    @Override
                    public List<String> call() throws Exception {
                        go.await();
                        List<String> seen = new ArrayList<>();
                        for (int i = 0; i < calls; i++) {
                            AuthinfoRequest req = new AuthinfoRequest("store-" + id, "门店" + id,
                                    "POS-" + id + "-" + i, RAWDATA);
                            Authinfo info = client.getAuthinfo(req);
                            checkAuthinfo(info);
                            // Every identity is new: a real request each time, never the cache.
                            check(!info.isFromCache() && info.getAttempts() == 1,
                                    "fresh result: " + info);
                            seen.add(info.getAuthinfo());
                            ok.incrementAndGet();
                        }
                        return seen;
                    }
                }));
            }
            go.countDown();
            Set<String> all = new HashSet<>();
            int total = 0;
            for (Future<List<String>> f : futures) {
                List<String> seen = f.get(120, TimeUnit.SECONDS);
                total += seen.size();
                all.addAll(seen);
            }
            checkEq(threads * calls, ok.get(), "successful calls");
            checkEq(threads * calls, total, "results");
            checkEq(threads * calls, all.size(), "distinct authinfos");
            checkEq(threads * calls, client.getCachedCount(), "cached identities");
        } finally {
            pool.shutdownNow();
        }
    }

    static void failureLoop() throws Exception {
        try (WxFaceClient client = new WxFaceClient(config().build())) {
            for (int i = 0; i < 300; i++) {
                switch (i % 3) {
                    case 0:
                        checkEq(WxFaceException.REMOTE, expectFailure(client, "MOCK:signed-error").getStatus(), "remote");
                        break;
                    case 1:
                        checkEq(WxFaceException.SIGNATURE, expectFailure(client, "MOCK:tampered-sign").getStatus(), "sig");
                        break;
                    default:
                        expectField("store_name", () -> client.getAuthinfo(new AuthinfoRequest("1", "", "d", RAWDATA)));
                }
            }
        }
    }

    static void panicProbe() {
        for (int i = 0; i < 3; i++) {
            try {
                nativePanicProbe();
                throw new AssertionError("the probe returned normally");
            } catch (WxFaceException e) {
                // javac cannot know the native method throws the checked exception.
                checkEq(WxFaceException.PANIC, e.getStatus(), "status");
                checkEq("WXFACE_ERR_PANIC", e.getStatusName(), "status name");
                check(e.getMessage().contains("panic probe"), "message: " + e.getMessage());
            } catch (Throwable t) {
                if (t instanceof AssertionError) {
                    throw (AssertionError) t;
                }
                throw new AssertionError("expected WxFaceException, got " + t, t);
            }
        }
    }

    static void cleaner() throws Exception {
        int before = WxFaceClient.openHandles();
        for (int i = 0; i < 20; i++) {
            WxFaceClient leaked = new WxFaceClient(config().build());
            if (i == 0) {
                checkAuthinfo(leaked.getAuthinfo(request(RAWDATA)));
            }
        }
        checkEq(before + 20, WxFaceClient.openHandles(), "open after creating");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<byte[]> pressure = new ArrayList<>();
        while (WxFaceClient.openHandles() > before && System.nanoTime() < deadline) {
            System.gc();
            pressure.add(new byte[1 << 16]);
            if (pressure.size() > 64) {
                pressure.clear();
            }
            Thread.sleep(20);
        }
        checkEq(before, WxFaceClient.openHandles(), "open after GC");
    }

    // ---------------------------------------------------------------- field options

    static String property(String name) {
        String v = System.getProperty("wxface.test." + name);
        if (v == null || v.isEmpty()) {
            throw new AssertionError("system property wxface.test." + name
                    + " is not set (run java/test.sh)");
        }
        return v;
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A request for its own identity, so tests sharing a mock do not share cache entries. */
    static AuthinfoRequest requestFor(String deviceId, String rawdata) {
        return new AuthinfoRequest("1001", "Shenzhen Nanshan", deviceId, rawdata);
    }

    static void configOptions() throws Exception {
        WxFaceConfig d = config().build();
        checkEq(null, d.getLogger(), "logger");
        checkEq("WxFaceConfig{mchId=" + MCH_ID + ", appid=" + APPID + ", baseUrl=" + baseUrl + ", key=***}",
                d.toString(), "toString shows only what was set");

        WxFaceLogger quiet = (level, message) -> { };
        WxFaceConfig c = config()
                .baseUrls(Arrays.asList(baseUrl, "http://127.0.0.1:1", "http://localhost:2"))
                .fallbackBaseUrl("http://[::1]:3")
                .attemptTimeoutMillis(1500).maxRetries(4).backoff(10, 40)
                .clockSkewCorrection(false).cache(false).cacheRefreshMarginSeconds(30)
                .proxy("http://proxyuser:urlsecret@127.0.0.1:3128")
                .proxyCredentials("alice", "s3cr3t-pass")
                .caPem("-----BEGIN CERTIFICATE-----".getBytes(StandardCharsets.US_ASCII))
                .caFile("/etc/ssl/x.pem").builtinRoots(false)
                .logger(quiet, WxFaceLogger.Level.DEBUG)
                .build();
        check(c.getLogger() == quiet, "logger");
        String text = c.toString();
        check(!text.contains("s3cr3t-pass") && !text.contains("urlsecret"),
                "toString hides the proxy passwords: " + text);
        check(!text.contains(MOCK_KEY), "toString hides the key");
        check(text.contains("127.0.0.1:3128") && text.contains("fallbackBaseUrls=[http://127.0.0.1:1, "
                + "http://localhost:2, http://[::1]:3]") && text.contains("maxRetries=4")
                && text.contains("logLevel=DEBUG"), "toString names the options set: " + text);
        // The library accepts every option (builtinRoots(false) needs a CA, given here).
        byte[] ca = Files.readAllBytes(Paths.get(property("tlsCa")));
        WxFaceConfig all = config().fallbackBaseUrl("http://127.0.0.1:1")
                .attemptTimeoutMillis(1500).maxRetries(4).backoff(10, 40)
                .connectTimeoutMillis(1000).timeoutMillis(5000).signType(SignType.MD5)
                .clockSkewCorrection(false).cache(false).cacheRefreshMarginSeconds(30)
                .proxy("socks5://127.0.0.1:1080").proxyCredentials("alice", "s3cr3t-pass")
                .caPem(ca).caFile(property("tlsCa")).builtinRoots(false)
                .logger(quiet, WxFaceLogger.Level.DEBUG).build();
        new WxFaceClient(all).close();
        // An empty list keeps the primary and drops the fallbacks: the refused fallback is gone.
        new WxFaceClient(config().fallbackBaseUrl("ftp://127.0.0.1:1")
                .baseUrls(Collections.<String>emptyList()).build()).close();
        checkEq(WxFaceLogger.Level.WARN, WxFaceLogger.Level.fromValue(2), "fromValue");
        checkEq(4, WxFaceLogger.Level.DEBUG.value(), "DEBUG value");
        checkEq(6, WxFaceLogger.Level.ERROR.androidPriority(), "android priority");
    }

    /**
     * tests/bad_config.tsv: the same bad values tests/c/test_ffi.c gives the C API; the message
     * must be the one listed there, i.e. the same one C gets.
     */
    static void sameMessagesAsC() throws Exception {
        List<String> lines = Files.readAllLines(Paths.get(property("badConfig")), StandardCharsets.UTF_8);
        int rows = 0;
        for (String line : lines) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] cols = line.split("\t");
            String option = cols[0];
            String[] v = cols[1].split(",");
            String expected = cols[2];
            WxFaceConfig.Builder b = config();
            byte[] badKey = null;
            switch (option) {
                case "timeout": b.timeoutMillis(Long.parseLong(v[0])); break;
                case "connect_timeout": b.connectTimeoutMillis(Long.parseLong(v[0])); break;
                case "backoff": b.backoff(Long.parseLong(v[0]), Long.parseLong(v[1])); break;
                case "max_idle_connections": b.maxIdleConnections(Integer.parseInt(v[0])); break;
                case "base_url": b.baseUrl(v[0]); break;
                case "fallback_base_url": b.fallbackBaseUrl(v[0]); break;
                case "sub_mch_id": b.subMchId(v[0]); break;
                case "mch_id": b = WxFaceConfig.builder(v[0], APPID, key).baseUrl(baseUrl); break;
                case "proxy": b.proxy(v[0]); break;
                case "proxy_credentials": b.proxyCredentials(v[0], v[1]); break;
                case "builtin_roots": b.builtinRoots(Boolean.parseBoolean(v[0])); break;
                case "ca_pem": b.caPem(v[0].getBytes(StandardCharsets.UTF_8)); break;
                case "key": badKey = v[0].getBytes(StandardCharsets.UTF_8); break;
                default: throw new AssertionError("bad_config.tsv: unknown option " + option);
            }
            WxFaceConfig cfg = badKey == null ? b.build()
                    : WxFaceConfig.builder(MCH_ID, APPID, badKey).baseUrl(baseUrl).build();
            try {
                new WxFaceClient(cfg).close();
                check(false, option + " " + cols[1] + ": accepted");
            } catch (IllegalArgumentException e) {
                checkEq(expected, e.getMessage(), option + " message");
            }
            rows++;
        }
        check(rows >= 10, "bad_config.tsv has its rows (" + rows + ")");
    }

    static void invalidOptions() throws Exception {
        Class<NullPointerException> npe = NullPointerException.class;
        expectThrows(npe, "fallback null", () -> config().fallbackBaseUrl(null));
        expectThrows(npe, "baseUrls null element",
                () -> config().baseUrls(Arrays.asList(baseUrl, null)));
        expectThrows(npe, "caPem null", () -> config().caPem(null));
        expectThrows(npe, "caFile null", () -> config().caFile(null));
        expectThrows(npe, "proxy password null", () -> config().proxyCredentials("u", null));
        expectThrows(npe, "log level null", () -> config().logger((l, m) -> { }, null));
        int before = WxFaceClient.openHandles();
        expectField("max_retries", () -> new WxFaceClient(config().maxRetries(-1).build()));
        expectField("backoff", () -> new WxFaceClient(config().backoff(-1, 10).build()));
        expectField("cache_refresh_margin",
                () -> new WxFaceClient(config().cacheRefreshMarginSeconds(-1).build()));
        expectField("fallback_base_url", () -> new WxFaceClient(config().fallbackBaseUrl("http://example.com").build()));
        expectField("proxy", () -> new WxFaceClient(config().proxyCredentials("u", "pw").build()));
        try {
            new WxFaceClient(config().proxy("ftp://u:hunter2@127.0.0.1:1").build()).close();
            throw new AssertionError("ftp proxy accepted");
        } catch (IllegalArgumentException e) {
            check(!e.getMessage().contains("hunter2"), "message hides the proxy password: " + e.getMessage());
        }
        checkEq(before, WxFaceClient.openHandles(), "failed creations leak no handle");
    }

    static void cacheHitRefreshClear() throws Exception {
        try (WxFaceClient client = new WxFaceClient(config().build())) {
            AuthinfoRequest req = requestFor("CACHE-1", RAWDATA);
            checkEq(0, client.getCachedCount(), "empty cache");
            Authinfo first = client.getAuthinfo(req);
            checkAuthinfo(first);
            check(!first.isFromCache() && !first.isStale(), "first call asks WeChat: " + first);
            checkEq(1, first.getAttempts(), "attempts");
            checkEq(null, first.getRefreshError(), "refresh error");
            check(first.getRemainingMillis() > 3_590_000 && first.getRemainingMillis() <= 3_600_000,
                    "remaining " + first.getRemainingMillis());
            checkEq(1, client.getCachedCount(), "one identity cached");

            Authinfo hit = client.getAuthinfo(req);
            check(hit.isFromCache() && !hit.isStale(), "second call hits the cache: " + hit);
            checkEq(0, hit.getAttempts(), "cache hit attempts");
            checkEq(first.getAuthinfo(), hit.getAuthinfo(), "same authinfo");
            check(hit.getRemainingMillis() <= first.getRemainingMillis(), "remaining decreases");
            checkAuthinfo(hit);
            // Another rawdata, same store/device: still the cached one (rawdata is not part of
            // the identity).
            checkEq(first.getAuthinfo(), client.getAuthinfo(requestFor("CACHE-1", "other+raw=")).getAuthinfo(),
                    "rawdata not in the identity");

            Authinfo forced = client.getAuthinfo(req, CallOptions.DEFAULT.withForceRefresh(true));
            check(!forced.isFromCache(), "forced refresh asks WeChat: " + forced);
            checkEq(1, forced.getAttempts(), "forced attempts");
            check(!forced.getAuthinfo().equals(first.getAuthinfo()), "a new authinfo");
            checkEq(forced.getAuthinfo(), client.getAuthinfo(req).getAuthinfo(), "refresh replaced the entry");

            Authinfo bypass = client.getAuthinfo(req, CallOptions.DEFAULT.withUseCache(false));
            check(!bypass.isFromCache(), "useCache(false) asks WeChat");
            checkEq(forced.getAuthinfo(), client.getAuthinfo(req).getAuthinfo(), "bypass left the cache alone");

            client.clearCache();
            checkEq(0, client.getCachedCount(), "cleared");
            Authinfo after = client.getAuthinfo(req);
            check(!after.isFromCache(), "after clearCache the call asks WeChat");
            check(!after.getAuthinfo().equals(forced.getAuthinfo()), "a new authinfo after clear");
            check(CallOptions.DEFAULT.isUseCache() && !CallOptions.DEFAULT.isForceRefresh(), "defaults");
            checkEq(CallOptions.DEFAULT, CallOptions.DEFAULT.withForceRefresh(true).withForceRefresh(false), "equals");
        }
        WxFaceClient closed = new WxFaceClient(config().build());
        closed.close();
        expectThrows(IllegalStateException.class, "clearCache after close", closed::clearCache);
        expectThrows(IllegalStateException.class, "getCachedCount after close", closed::getCachedCount);
    }

    static void cacheDisabled() throws Exception {
        try (WxFaceClient client = new WxFaceClient(config().cache(false).build())) {
            AuthinfoRequest req = requestFor("NOCACHE-1", RAWDATA);
            Authinfo a = client.getAuthinfo(req);
            Authinfo b = client.getAuthinfo(req);
            check(!a.isFromCache() && !b.isFromCache(), "never from the cache");
            check(!a.getAuthinfo().equals(b.getAuthinfo()), "two requests, two authinfos");
            checkEq(0, client.getCachedCount(), "nothing cached");
        }
    }

    static void staleOnRefreshFailure() throws Exception {
        // A margin of the whole validity makes every call a refresh.
        try (WxFaceClient client = new WxFaceClient(config().cacheRefreshMarginSeconds(3600).build())) {
            Authinfo first = client.getAuthinfo(requestFor("STALE-1", RAWDATA));
            check(!first.isFromCache(), "first");
            Authinfo stale = client.getAuthinfo(requestFor("STALE-1", "MOCK:signed-error"));
            check(stale.isStale() && stale.isFromCache(), "stale result: " + stale);
            checkEq(first.getAuthinfo(), stale.getAuthinfo(), "the cached authinfo");
            checkEq(1, stale.getAttempts(), "the refresh made one attempt");
            WxFaceException e = stale.getRefreshError();
            check(e != null, "refresh error set");
            checkEq(WxFaceException.REMOTE, e.getStatus(), "refresh error status");
            checkEq("ERROR", e.getReturnCode(), "refresh error return code");
            checkEq("无效的RawData数据", e.getReturnMsg(), "refresh error return msg");
            check(stale.getRemainingMillis() > 0, "still valid");
        }
    }

    static void shortLived() throws Exception {
        WxFaceConfig config = WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(property("shortUrl"))
                .cacheRefreshMarginSeconds(1).build();
        try (WxFaceClient client = new WxFaceClient(config)) {
            AuthinfoRequest req = requestFor("SHORT-1", RAWDATA);
            long start = System.nanoTime();
            Authinfo a = client.getAuthinfo(req);
            checkEq(2L, a.getExpiresIn(), "expires in");
            check(a.getRemainingMillis() <= 2000, "remaining " + a.getRemainingMillis());
            Authinfo hit = client.getAuthinfo(req);
            long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            // Fresh until 1 s before expiry; a machine slow enough to take longer is not a failure.
            check(hit.isFromCache() || elapsed >= 1000, "fresh within the margin: " + hit);
            // Time passing is what this test is about: after these waits the entry is due for
            // refresh, then expired, however slow the machine.
            Thread.sleep(1100);
            Authinfo refreshed = client.getAuthinfo(req);
            check(!refreshed.isFromCache(), "refreshed once within the margin: " + refreshed);
            check(!refreshed.getAuthinfo().equals(a.getAuthinfo()), "a new authinfo");
            Thread.sleep(2300);
            // Expired: a failing refresh is thrown, not served stale.
            WxFaceException e = expectFailure(client, "SHORT-1", "MOCK:signed-error");
            checkEq(WxFaceException.REMOTE, e.getStatus(), "expired entry, failure thrown");
        }
    }

    static WxFaceException expectFailure(WxFaceClient client, String deviceId, String rawdata) {
        try {
            Authinfo info = client.getAuthinfo(requestFor(deviceId, rawdata));
            throw new AssertionError("expected a WxFaceException, got " + info);
        } catch (WxFaceException e) {
            return e;
        }
    }

    static void retries() throws Exception {
        List<String> lines = Collections.synchronizedList(new ArrayList<String>());
        WxFaceConfig config = WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(property("flakyUrl"))
                .backoff(10, 50).logger((level, message) -> lines.add(level + " " + message),
                        WxFaceLogger.Level.DEBUG)
                .build();
        try (WxFaceClient client = new WxFaceClient(config)) {
            Authinfo info = client.getAuthinfo(requestFor("RETRY-1", RAWDATA));
            checkAuthinfo(info);
            checkEq(3, info.getAttempts(), "attempts (" + lines + ")");
            check(!info.isFromCache(), "fresh");
            int warns = 0;
            for (String l : lines) {
                if (l.startsWith("WARN ") && l.contains("retry")) {
                    warns++;
                }
            }
            checkEq(2, warns, "WARN lines for the 2 retries: " + lines);
        }
    }

    static void noRetries() throws Exception {
        try (WxFaceClient client = new WxFaceClient(config().maxRetries(0).cache(false).build())) {
            WxFaceException e = expectFailure(client, "NORETRY-1", "MOCK:http-500");
            checkEq(WxFaceException.HTTP_STATUS, e.getStatus(), "status");
        }
    }

    static void clockSkew() throws Exception {
        WxFaceConfig config = WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(property("skewUrl")).build();
        try (WxFaceClient client = new WxFaceClient(config)) {
            checkEq(0L, client.getClockOffsetSeconds(), "no offset yet");
            Authinfo info = client.getAuthinfo(requestFor("SKEW-1", RAWDATA));
            checkAuthinfo(info);
            check(info.isClockCorrected(), "clock corrected: " + info);
            check(Math.abs(info.getClockOffsetSeconds() - 1000) <= 5, "offset " + info.getClockOffsetSeconds());
            checkEq(2, info.getAttempts(), "refused, then corrected");
            checkEq(info.getClockOffsetSeconds(), client.getClockOffsetSeconds(), "client offset");
            // The offset is kept: the next request is right the first time.
            Authinfo next = client.getAuthinfo(requestFor("SKEW-1", RAWDATA), CallOptions.DEFAULT.withUseCache(false));
            check(!next.isClockCorrected(), "no new correction");
            checkEq(1, next.getAttempts(), "one attempt");
            checkEq(info.getClockOffsetSeconds(), next.getClockOffsetSeconds(), "offset kept");
        }
    }

    static void clockSkewDisabled() throws Exception {
        WxFaceConfig config = WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(property("skewUrl"))
                .clockSkewCorrection(false).build();
        try (WxFaceClient client = new WxFaceClient(config)) {
            WxFaceException e = expectFailure(client, "SKEW-2", RAWDATA);
            checkEq(WxFaceException.REMOTE, e.getStatus(), "status");
            checkEq("PARAM_ERROR", e.getReturnCode(), "return code");
            check(e.getReturnMsg().contains("Now"), "return msg " + e.getReturnMsg());
            checkEq(0L, client.getClockOffsetSeconds(), "no offset");
        }
    }

    static void fallback() throws Exception {
        String refused = "http://127.0.0.1:" + freePort();
        WxFaceConfig config = WxFaceConfig.builder(MCH_ID, APPID, key)
                .baseUrls(Arrays.asList(refused, baseUrl)).connectTimeoutMillis(1000).build();
        try (WxFaceClient client = new WxFaceClient(config)) {
            Authinfo info = client.getAuthinfo(requestFor("FALLBACK-1", RAWDATA));
            checkAuthinfo(info);
            checkEq(2, info.getAttempts(), "primary refused, fallback answered");
            // The client keeps using the URL that worked.
            Authinfo next = client.getAuthinfo(requestFor("FALLBACK-2", RAWDATA));
            checkEq(1, next.getAttempts(), "the fallback is now preferred");
        }
        WxFaceConfig viaBuilder = WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(refused)
                .fallbackBaseUrl(baseUrl).build();
        try (WxFaceClient client = new WxFaceClient(viaBuilder)) {
            checkAuthinfo(client.getAuthinfo(requestFor("FALLBACK-3", RAWDATA)));
        }
    }

    static void httpsWithCa() throws Exception {
        String url = property("tlsUrl");
        String caPath = property("tlsCa");
        byte[] pem = Files.readAllBytes(Paths.get(caPath));
        WxFaceConfig[] configs = {
            WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(url).caPem(pem).build(),
            WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(url).caFile(caPath).build(),
            WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(url).caPem(pem).builtinRoots(false).build(),
        };
        for (WxFaceConfig config : configs) {
            try (WxFaceClient client = new WxFaceClient(config)) {
                Authinfo info = client.getAuthinfo(requestFor("TLS-1", RAWDATA));
                checkAuthinfo(info);
                checkEq(1, info.getAttempts(), "attempts (" + config + ")");
            }
        }
    }

    static void httpsWithoutCa() throws Exception {
        WxFaceConfig config = WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(property("tlsUrl")).build();
        try (WxFaceClient client = new WxFaceClient(config)) {
            WxFaceException e = expectFailure(client, "TLS-2", RAWDATA);
            checkEq(WxFaceException.TLS, e.getStatus(), "status (" + e + ")");
            checkEq("WXFACE_ERR_TLS", e.getStatusName(), "status name");
        }
    }

    static void trustStores() throws Exception {
        String url = property("tlsUrl");
        String android = property("tlsAndroidDir");
        WxFaceConfig[] configs = {
            WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(url)
                    .trustStore(TrustStore.SYSTEM).systemCaPath(android).build(),
            WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(url)
                    .trustStore(TrustStore.BOTH).systemCaPath(android).build(),
            WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(url).userCaPath(android).build(),
        };
        for (WxFaceConfig config : configs) {
            try (WxFaceClient client = new WxFaceClient(config)) {
                checkAuthinfo(client.getAuthinfo(requestFor("TLS-STORE", RAWDATA)));
            }
        }
        String shown = configs[0].toString();
        check(shown.contains("trustStore=SYSTEM") && shown.contains("systemCaPath=" + android), shown);
        // Explicitly BUNDLED: the test CA is not among Mozilla's roots.
        WxFaceConfig bundled = WxFaceConfig.builder(MCH_ID, APPID, key).baseUrl(url)
                .trustStore(TrustStore.BUNDLED).systemCaPath(android).build();
        try (WxFaceClient client = new WxFaceClient(bundled)) {
            checkEq(WxFaceException.TLS, expectFailure(client, "TLS-STORE-2", RAWDATA).getStatus(),
                    "bundled roots refuse the test CA");
        }
    }

    static void badTrustStores() throws Exception {
        String empty = property("tlsEmptyDir");
        expectField("system_ca_path", () -> new WxFaceClient(config()
                .trustStore(TrustStore.SYSTEM).systemCaPath(empty).build()));
        expectField("system_ca_path", () -> new WxFaceClient(config()
                .trustStore(TrustStore.BOTH).systemCaPath(empty + "/missing").build()));
        expectField("user_ca_path", () -> new WxFaceClient(config().userCaPath(empty).build()));
        expectField("user_cas", () -> new WxFaceClient(config().userCas(true).build()));
        Class<NullPointerException> npe = NullPointerException.class;
        expectThrows(npe, "trustStore null", () -> config().trustStore(null));
        expectThrows(npe, "systemCaPath null", () -> config().systemCaPath(null));
        expectThrows(npe, "userCaPath null", () -> config().userCaPath(null));
    }

    static void badCa() throws Exception {
        expectField("ca_pem", () -> new WxFaceClient(config()
                .caPem("not a certificate".getBytes(StandardCharsets.US_ASCII)).build()));
        expectField("ca_file", () -> new WxFaceClient(config()
                .caFile("/nonexistent/wxface-ca.pem").build()));
    }

    static void proxyRefused() throws Exception {
        WxFaceConfig config = config().proxy("http://127.0.0.1:" + freePort())
                .proxyCredentials("alice", "s3cr3t-pass").maxRetries(0).cache(false).build();
        try (WxFaceClient client = new WxFaceClient(config)) {
            WxFaceException e = expectFailure(client, "PROXY-1", RAWDATA);
            checkEq(WxFaceException.NETWORK, e.getStatus(), "status (" + e + ")");
            check(!e.getMessage().contains("s3cr3t-pass"), "message hides the proxy password: " + e.getMessage());
        }
    }

    /** Collects log lines; checks none carries a secret. */
    static final class Lines implements WxFaceLogger {
        final List<String> lines = Collections.synchronizedList(new ArrayList<String>());
        final Set<String> threads = Collections.synchronizedSet(new HashSet<String>());

        @Override
        public void log(Level level, String message) {
            check(level != null && message != null, "level and message");
            lines.add(level + " " + message);
            threads.add(Thread.currentThread().getName());
        }

        List<String> snapshot() {
            synchronized (lines) {
                return new ArrayList<String>(lines);
            }
        }

        boolean has(String level, String fragment) {
            for (String l : snapshot()) {
                if (l.startsWith(level + " ") && l.contains(fragment)) {
                    return true;
                }
            }
            return false;
        }

        void checkNoSecrets(String... secrets) {
            for (String l : snapshot()) {
                check(!l.contains(MOCK_KEY), "a log line carries the key: " + l);
                for (String secret : secrets) {
                    check(!l.contains(secret), "a log line carries a secret: " + l);
                }
            }
        }
    }

    static void logger() throws Exception {
        Lines log = new Lines();
        String rawdata = "UNIQUERAWDATA+abc/def=";
        List<String> authinfos = new ArrayList<String>();
        try (WxFaceClient client = new WxFaceClient(config().logger(log, WxFaceLogger.Level.DEBUG).build())) {
            AuthinfoRequest req = requestFor("LOG-1", rawdata);
            authinfos.add(client.getAuthinfo(req).getAuthinfo());
            Authinfo hit = client.getAuthinfo(req);
            check(hit.isFromCache(), "second call is a cache hit");
            authinfos.add(client.getAuthinfo(req, CallOptions.DEFAULT.withForceRefresh(true)).getAuthinfo());
            client.clearCache();
        }
        check(log.has("DEBUG", "attempt 1"), "DEBUG line for the attempt: " + log.snapshot());
        check(log.has("DEBUG", "cache hit"), "DEBUG line for the cache hit: " + log.snapshot());
        check(log.has("INFO", "cache miss"), "INFO line for the cache miss: " + log.snapshot());
        check(log.has("INFO", "cache refresh"), "INFO line for the forced refresh: " + log.snapshot());
        check(log.has("INFO", "authinfo obtained"), "INFO line for the outcome: " + log.snapshot());
        check(log.has("INFO", "cache cleared"), "INFO line for clearCache: " + log.snapshot());
        check(log.has("DEBUG", "LOG-1"), "lines name the device: " + log.snapshot());
        List<String> secrets = new ArrayList<String>(authinfos);
        secrets.add(rawdata);
        secrets.add("UNIQUERAWDATA");
        log.checkNoSecrets(secrets.toArray(new String[0]));
        check(log.threads.contains(Thread.currentThread().getName()), "called on the calling thread");
    }

    static void loggerFailures() throws Exception {
        Lines log = new Lines();
        String failing = "http://127.0.0.1:" + freePort();
        WxFaceConfig config = WxFaceConfig.builder(MCH_ID, APPID, key)
                .baseUrls(Arrays.asList(failing, baseUrl)).backoff(10, 20)
                .proxyCredentials("alice", "s3cr3t-pass").proxy("http://127.0.0.1:" + freePort())
                .logger(log, WxFaceLogger.Level.DEBUG).build();
        // Failover first, without the proxy.
        WxFaceConfig direct = WxFaceConfig.builder(MCH_ID, APPID, key)
                .baseUrls(Arrays.asList(failing, baseUrl)).backoff(10, 20)
                .logger(log, WxFaceLogger.Level.DEBUG).build();
        try (WxFaceClient client = new WxFaceClient(direct)) {
            checkAuthinfo(client.getAuthinfo(requestFor("LOGFAIL-1", RAWDATA)));
            expectFailure(client, "LOGFAIL-2", "MOCK:signed-error");
        }
        try (WxFaceClient client = new WxFaceClient(config)) {
            expectFailure(client, "LOGFAIL-3", RAWDATA);
        }
        check(log.has("WARN", "retry 1/2"), "WARN line for the retry: " + log.snapshot());
        check(log.has("ERROR", "无效的RawData数据"), "ERROR line with the cause: " + log.snapshot());
        check(log.has("ERROR", "LOGFAIL-3"), "ERROR line for the proxy failure: " + log.snapshot());
        log.checkNoSecrets("s3cr3t-pass", "MOCKAUTHINFO");
    }

    static void loggerLevel() throws Exception {
        Lines warnOnly = new Lines();
        Lines info = new Lines();
        try (WxFaceClient a = new WxFaceClient(config().logger(warnOnly, WxFaceLogger.Level.WARN).build());
                WxFaceClient b = new WxFaceClient(config().logger(info).build())) {
            for (WxFaceClient c : new WxFaceClient[] {a, b}) {
                c.getAuthinfo(requestFor("LEVEL-1", RAWDATA));
                c.getAuthinfo(requestFor("LEVEL-1", RAWDATA));
                expectFailure(c, "LEVEL-2", "MOCK:signed-error");
            }
        }
        for (String l : warnOnly.snapshot()) {
            check(l.startsWith("ERROR ") || l.startsWith("WARN "), "WARN logger got " + l);
        }
        check(warnOnly.has("ERROR", "LEVEL-2"), "ERROR line reaches a WARN logger");
        for (String l : info.snapshot()) {
            check(!l.startsWith("DEBUG "), "INFO logger got " + l);
        }
        check(info.has("INFO", "authinfo obtained"), "INFO line reaches the default logger");
    }

    static void throwingLogger() throws Exception {
        final AtomicInteger calls = new AtomicInteger();
        WxFaceLogger bad = (level, message) -> {
            calls.incrementAndGet();
            throw new IllegalStateException("logger failure " + calls.get());
        };
        WxFaceLogger worse = (level, message) -> {
            calls.incrementAndGet();
            throw new StackOverflowError("deliberate");
        };
        for (WxFaceLogger logger : new WxFaceLogger[] {bad, worse}) {
            try (WxFaceClient client = new WxFaceClient(config().logger(logger, WxFaceLogger.Level.DEBUG).build())) {
                for (int i = 0; i < 20; i++) {
                    Authinfo info = client.getAuthinfo(requestFor("THROW-" + i, RAWDATA));
                    checkAuthinfo(info);
                    check(client.getAuthinfo(requestFor("THROW-" + i, RAWDATA)).isFromCache(), "cache hit");
                    WxFaceException e = expectFailure(client, "THROWFAIL-" + i, "MOCK:signed-error");
                    checkEq(WxFaceException.REMOTE, e.getStatus(), "the call's own failure, not the logger's");
                    expectField("store_name", () -> client.getAuthinfo(new AuthinfoRequest("1", "", "d", RAWDATA)));
                }
                client.clearCache();
            }
        }
        check(calls.get() > 100, "the logger was called: " + calls.get());
        // A logger that tries to close its own client gets IllegalStateException (dropped like any
        // logger exception) instead of a deadlock.
        final WxFaceClient[] self = new WxFaceClient[1];
        final List<Throwable> thrown = Collections.synchronizedList(new ArrayList<Throwable>());
        WxFaceLogger closing = (level, message) -> {
            try {
                self[0].close();
            } catch (RuntimeException e) {
                thrown.add(e);
                throw e;
            }
        };
        try (WxFaceClient client = new WxFaceClient(config().logger(closing).build())) {
            self[0] = client;
            checkAuthinfo(client.getAuthinfo(requestFor("THROW-CLOSE", RAWDATA)));
            check(!client.isClosed(), "still open");
            check(!thrown.isEmpty() && thrown.get(0) instanceof IllegalStateException,
                    "close() from the logger refused: " + thrown);
        }
    }

    static void loggerConcurrent() throws Exception {
        final Lines log = new Lines();
        final int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (final WxFaceClient client = new WxFaceClient(config().logger(log, WxFaceLogger.Level.DEBUG).build())) {
            List<Future<Integer>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int id = t;
                futures.add(pool.submit(() -> {
                    int n = 0;
                    for (int i = 0; i < 10; i++) {
                        AuthinfoRequest req = requestFor("LOGMT-" + id + "-" + (i % 3), RAWDATA);
                        checkAuthinfo(client.getAuthinfo(req));
                        n++;
                    }
                    return n;
                }));
            }
            int total = 0;
            for (Future<Integer> f : futures) {
                total += f.get(60, TimeUnit.SECONDS);
            }
            checkEq(threads * 10, total, "calls");
        } finally {
            pool.shutdownNow();
        }
        check(log.threads.size() >= 2, "lines from several threads: " + log.threads);
        check(log.has("DEBUG", "cache hit"), "cache hits logged");
        log.checkNoSecrets("MOCKAUTHINFO");
    }

    static void loggerReleased() throws Exception {
        WeakReference<Lines> ref = closeClientWithLogger();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<byte[]> pressure = new ArrayList<>();
        while (ref.get() != null && System.nanoTime() < deadline) {
            System.gc();
            pressure.add(new byte[1 << 16]);
            if (pressure.size() > 64) {
                pressure.clear();
            }
            Thread.sleep(20);
        }
        check(ref.get() == null, "the native global reference to the logger was released");
    }

    static void loggerNativeThread() throws Exception {
        Lines log = new Lines();
        checkEq(5, nativeLogFromNativeThread(config().logger(log).build(), 5), "lines sent");
        checkEq(5, log.snapshot().size(), "lines received: " + log.snapshot());
        check(log.has("INFO", "line 4 from a native thread"), "content: " + log.snapshot());
        check(!log.threads.contains(Thread.currentThread().getName()), "another thread: " + log.threads);
        final AtomicInteger calls = new AtomicInteger();
        WxFaceLogger bad = (level, message) -> {
            calls.incrementAndGet();
            throw new IllegalStateException("deliberate");
        };
        checkEq(3, nativeLogFromNativeThread(config().logger(bad).build(), 3), "lines sent");
        checkEq(3, calls.get(), "the throwing logger ran each time");
    }

    static WeakReference<Lines> closeClientWithLogger() throws Exception {
        Lines log = new Lines();
        WxFaceConfig config = config().logger(log, WxFaceLogger.Level.DEBUG).build();
        WxFaceClient client = new WxFaceClient(config);
        client.getAuthinfo(requestFor("RELEASE-1", RAWDATA));
        check(!log.snapshot().isEmpty(), "logged");
        client.close();
        return new WeakReference<Lines>(log);
    }

    static String repeat(char c, int n) {
        char[] a = new char[n];
        Arrays.fill(a, c);
        return new String(a);
    }
}
