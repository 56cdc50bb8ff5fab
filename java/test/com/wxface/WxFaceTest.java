package com.wxface;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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
        test("invalid key is refused without echoing it", WxFaceTest::invalidKey);
        test("closed client throws IllegalStateException; close twice is harmless", WxFaceTest::closedClient);
        test("close waits for a call in flight", WxFaceTest::closeDuringCall);
        test("wiped config key cannot create clients", WxFaceTest::wipedKey);
        test("8 threads x 50 calls on one client", WxFaceTest::concurrent);
        test("failure paths in a loop (local references)", WxFaceTest::failureLoop);
        test("Rust panic becomes WxFaceException status 10", WxFaceTest::panicProbe);
        test("unclosed clients are freed by the cleaner", WxFaceTest::cleaner);
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
            check(ms < 5000, "returned after " + ms + " ms");
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
                    () -> invokeNativeGet(0L, null, "s", "d", "r", null, false, 0L));
            expectThrows(npe, "native rawdata",
                    () -> invokeNativeGet(0L, "1", "s", "d", null, null, false, 0L));
            checkAuthinfo(client.getAuthinfo(request(RAWDATA)));
        }
    }

    /** Calls the private native method directly, unwrapping reflection's wrapper. */
    static Object invokeNativeGet(Object... args) throws Exception {
        java.lang.reflect.Method m = WxFaceClient.class.getDeclaredMethod("nativeGetAuthinfo",
                long.class, String.class, String.class, String.class, String.class, String.class,
                boolean.class, long.class);
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
        expectField("base_url", () -> new WxFaceClient(config().baseUrl("").build()));
        expectThrows(iae, "timeout 0", () -> config().timeoutMillis(0));
        expectThrows(iae, "negative connect timeout", () -> config().connectTimeoutMillis(-5));
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
                () -> invokeNativeGet(0L, "1", "s", "d", RAWDATA, null, false, 0L));
    }

    static void closeDuringCall() throws Exception {
        final WxFaceClient client = new WxFaceClient(config().timeoutMillis(800).build());
        final CountDownLatch started = new CountDownLatch(1);
        final Throwable[] outcome = new Throwable[1];
        Thread caller = new Thread(() -> {
            started.countDown();
            try {
                client.getAuthinfo(request("MOCK:hang"));
            } catch (Throwable t) {
                outcome[0] = t;
            }
        });
        caller.start();
        started.await();
        Thread.sleep(200); // let the call reach the network
        long start = System.nanoTime();
        client.close(); // must wait for the call, not free the client under it
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        caller.join(10_000);
        check(!caller.isAlive(), "caller finished");
        check(outcome[0] instanceof WxFaceException
                && ((WxFaceException) outcome[0]).getStatus() == WxFaceException.TIMEOUT,
                "in-flight call ended with its own timeout: " + outcome[0]);
        check(waited >= 200, "close waited for the call (" + waited + " ms)");
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

    static String repeat(char c, int n) {
        char[] a = new char[n];
        Arrays.fill(a, c);
        return new String(a);
    }
}
