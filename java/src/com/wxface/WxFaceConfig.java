package com.wxface;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An immutable client configuration: merchant identity, APIv2 key, endpoints, signature type,
 * timeouts, retries, authinfo cache, proxy, trusted roots and logging. Build one with
 * {@link #builder(String, String, byte[])}.
 *
 * <p>This class only records the options you set. Their defaults, limits and messages live in
 * one place, the native library's configuration builder (the same one the C API uses): every
 * value is validated when a {@link WxFaceClient} is created from the configuration, which throws
 * {@link IllegalArgumentException} with the same message C gets from
 * {@code wxface_last_error_message()} for the same mistake (it names the field and never
 * contains the key). docs/field.md lists each option's default.
 *
 * <p>The key is copied. Wipe your own array once the configuration is built, and call
 * {@link #wipeKey()} once the clients you need are created: the native library keeps its own
 * copy in memory that it wipes when the client is closed. {@link #toString()} never shows the
 * key or the proxy password.
 *
 * <p>The native library reads this object's fields by name when a client is created (see
 * {@code proguard-rules.pro}); their names are part of the binding. A {@code null} field means
 * "not set: the library's default".
 */
public final class WxFaceConfig {
    // Read by name from native code (src/jni/config.rs): keep names and types in sync.
    private final String mchId;
    private final String appid;
    private final byte[] key;
    private final String subMchId;
    private final String subAppid;
    private final String baseUrl;
    private final String[] fallbackBaseUrls;
    private final SignType signType;
    private final String signTypeName;
    private final Long connectTimeoutMillis;
    private final Long timeoutMillis;
    private final Long attemptTimeoutMillis;
    private final Integer maxRetries;
    private final Integer maxIdleConnections;
    private final Long backoffInitialMillis;
    private final Long backoffMaxMillis;
    private final Boolean clockSkewCorrection;
    private final Boolean cache;
    private final Long cacheRefreshMarginSeconds;
    private final String proxy;
    private final String proxyUser;
    private final String proxyPassword;
    private final byte[][] caPems;
    private final String[] caFiles;
    private final Boolean builtinRoots;
    private final Integer trustStoreCode; // TrustStore.code(), null: not set
    private final String systemCaPath;
    private final Boolean userCas;
    private final String userCaPath;
    private final LogBridge logBridge; // null: no logger
    private final Integer logLevel;
    private final String relayUrl; // null: direct mode
    private final String relayToken;
    private final byte[] relayCertPem;
    private final byte[] relayKeyPem;
    private volatile boolean keyWiped;

    private WxFaceConfig(Builder b) {
        this.mchId = b.mchId;
        this.appid = b.appid;
        this.key = b.key.clone();
        this.subMchId = b.subMchId;
        this.subAppid = b.subAppid;
        this.baseUrl = b.baseUrl;
        this.fallbackBaseUrls = b.fallbackBaseUrls.toArray(new String[0]);
        this.signType = b.signType;
        this.signTypeName = b.signType == null ? null : b.signType.wireName();
        this.connectTimeoutMillis = b.connectTimeoutMillis;
        this.timeoutMillis = b.timeoutMillis;
        this.attemptTimeoutMillis = b.attemptTimeoutMillis;
        this.maxRetries = b.maxRetries;
        this.maxIdleConnections = b.maxIdleConnections;
        this.backoffInitialMillis = b.backoffInitialMillis;
        this.backoffMaxMillis = b.backoffMaxMillis;
        this.clockSkewCorrection = b.clockSkewCorrection;
        this.cache = b.cache;
        this.cacheRefreshMarginSeconds = b.cacheRefreshMarginSeconds;
        this.proxy = b.proxy;
        this.proxyUser = b.proxyUser;
        this.proxyPassword = b.proxyPassword;
        this.caPems = new byte[b.caPems.size()][];
        for (int i = 0; i < caPems.length; i++) {
            caPems[i] = b.caPems.get(i).clone();
        }
        this.caFiles = b.caFiles.toArray(new String[0]);
        this.builtinRoots = b.builtinRoots;
        this.trustStoreCode = b.trustStore == null ? null : b.trustStore.code();
        this.systemCaPath = b.systemCaPath;
        this.userCas = b.userCas;
        this.userCaPath = b.userCaPath;
        this.logBridge = b.logger == null ? null : new LogBridge(b.logger);
        this.logLevel = b.logLevel == null ? null : b.logLevel.value();
        this.relayUrl = b.relayUrl;
        this.relayToken = b.relayToken;
        this.relayCertPem = b.relayCertPem == null ? null : b.relayCertPem.clone();
        this.relayKeyPem = b.relayKeyPem == null ? null : b.relayKeyPem.clone();
    }

    /**
     * Starts a relay-mode configuration: authinfos come from the merchant's
     * {@code wxface-relay} at {@code relayUrl} ({@code https://}, or {@code http://} for a
     * loopback host), which holds the APIv2 key; the terminal has none. Give the terminal's
     * credential with {@link Builder#relayToken(String)} or
     * {@link Builder#relayClientCert(byte[], byte[])}. Every other option (timeouts, retries,
     * cache, proxy, trusted roots, logging) applies as in direct mode.
     *
     * @throws NullPointerException if {@code relayUrl} is {@code null}
     */
    public static Builder relayBuilder(String relayUrl) {
        Builder b = new Builder("", "", new byte[0]);
        b.relayUrl = Objects.requireNonNull(relayUrl, "relayUrl");
        return b;
    }

    /** The relay's base URL in relay mode, or {@code null} in direct mode. */
    public String getRelayUrl() {
        return relayUrl;
    }

    /**
     * Starts a configuration for merchant {@code mchId}, its {@code appid} and its 32-byte APIv2
     * key (ASCII bytes as issued by the merchant platform). In service-provider mode these are
     * the provider's ids and key; set the sub-merchant's with {@link Builder#subMchId(String)} and
     * {@link Builder#subAppid(String)}.
     *
     * @throws NullPointerException if an argument is {@code null}
     */
    public static Builder builder(String mchId, String appid, byte[] key) {
        return new Builder(mchId, appid, key);
    }

    /** The merchant number. */
    public String getMchId() {
        return mchId;
    }

    /** The appid. */
    public String getAppid() {
        return appid;
    }

    /** The sub-merchant number, or {@code null}. */
    public String getSubMchId() {
        return subMchId;
    }

    /** The sub-merchant's appid, or {@code null}. */
    public String getSubAppid() {
        return subAppid;
    }

    /** The logger, or {@code null}. */
    public WxFaceLogger getLogger() {
        return logBridge == null ? null : logBridge.logger;
    }

    /**
     * Overwrites this configuration's copy of the key with zeros. Clients already created keep
     * working; creating another client from this configuration then throws
     * {@link IllegalStateException}.
     */
    public void wipeKey() {
        synchronized (key) {
            Arrays.fill(key, (byte) 0);
            if (relayKeyPem != null) {
                Arrays.fill(relayKeyPem, (byte) 0);
            }
            keyWiped = true;
        }
    }

    /** Hands the key to {@code user} while holding it; used by {@link WxFaceClient}. */
    long withKey(KeyUser user) {
        synchronized (key) {
            if (keyWiped) {
                throw new IllegalStateException("the key of this WxFaceConfig was wiped");
            }
            return user.use(key);
        }
    }

    interface KeyUser {
        long use(byte[] key);
    }

    /** The options that were set (not the defaults), without the key or any password. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("WxFaceConfig{mchId=").append(mchId)
                .append(", appid=").append(appid);
        if (relayUrl != null) {
            s.append(", relayUrl=").append(relayUrl)
                    .append(relayToken != null ? ", relayToken=***" : "")
                    .append(relayCertPem != null ? ", relayClientCert" : "");
        }
        append(s, "subMchId", subMchId);
        append(s, "subAppid", subAppid);
        append(s, "baseUrl", baseUrl);
        if (fallbackBaseUrls.length > 0) {
            s.append(", fallbackBaseUrls=").append(Arrays.toString(fallbackBaseUrls));
        }
        append(s, "signType", signType);
        append(s, "connectTimeoutMillis", connectTimeoutMillis);
        append(s, "timeoutMillis", timeoutMillis);
        append(s, "attemptTimeoutMillis", attemptTimeoutMillis);
        append(s, "maxRetries", maxRetries);
        append(s, "maxIdleConnections", maxIdleConnections);
        append(s, "backoffInitialMillis", backoffInitialMillis);
        append(s, "backoffMaxMillis", backoffMaxMillis);
        append(s, "clockSkewCorrection", clockSkewCorrection);
        append(s, "cache", cache);
        append(s, "cacheRefreshMarginSeconds", cacheRefreshMarginSeconds);
        if (proxy != null) {
            s.append(", proxy=").append(redactProxy(proxy));
            if (proxyUser != null) {
                s.append(" with credentials");
            }
        }
        if (caPems.length > 0) {
            s.append(", caPems=").append(caPems.length);
        }
        if (caFiles.length > 0) {
            s.append(", caFiles=").append(Arrays.toString(caFiles));
        }
        append(s, "builtinRoots", builtinRoots);
        append(s, "trustStore", trustStoreCode == null ? null : TrustStore.values()[trustStoreCode]);
        append(s, "systemCaPath", systemCaPath);
        append(s, "userCas", userCas);
        append(s, "userCaPath", userCaPath);
        if (logBridge != null) {
            s.append(", logger");
        }
        append(s, "logLevel", logLevel == null ? null : WxFaceLogger.Level.fromValue(logLevel));
        return s.append(", key=***}").toString();
    }

    private static void append(StringBuilder s, String name, Object value) {
        if (value != null) {
            s.append(", ").append(name).append('=').append(value);
        }
    }

    /** The proxy URL without any user information (which may hold a password). */
    static String redactProxy(String url) {
        int scheme = url.indexOf("://");
        int start = scheme < 0 ? 0 : scheme + 3;
        int end = url.indexOf('/', start);
        String authority = end < 0 ? url.substring(start) : url.substring(start, end);
        int at = authority.lastIndexOf('@');
        if (at < 0) {
            return url;
        }
        return url.substring(0, start) + "***@" + authority.substring(at + 1)
                + (end < 0 ? "" : url.substring(end));
    }

    /**
     * Builder for {@link WxFaceConfig}. Not thread-safe. Setters only record values ({@code null}
     * for a required object throws {@link NullPointerException}); they are validated when a
     * {@link WxFaceClient} is created.
     */
    public static final class Builder {
        private final String mchId;
        private final String appid;
        private final byte[] key;
        private String subMchId;
        private String subAppid;
        private String baseUrl;
        private final List<String> fallbackBaseUrls = new ArrayList<String>();
        private SignType signType;
        private Long connectTimeoutMillis;
        private Long timeoutMillis;
        private Long attemptTimeoutMillis;
        private Integer maxRetries;
        private Integer maxIdleConnections;
        private Long backoffInitialMillis;
        private Long backoffMaxMillis;
        private Boolean clockSkewCorrection;
        private Boolean cache;
        private Long cacheRefreshMarginSeconds;
        private String proxy;
        private String proxyUser;
        private String proxyPassword;
        private final List<byte[]> caPems = new ArrayList<byte[]>();
        private final List<String> caFiles = new ArrayList<String>();
        private Boolean builtinRoots;
        private TrustStore trustStore;
        private String systemCaPath;
        private Boolean userCas;
        private String userCaPath;
        private WxFaceLogger logger;
        private WxFaceLogger.Level logLevel;
        private String relayUrl;
        private String relayToken;
        private byte[] relayCertPem;
        private byte[] relayKeyPem;

        private Builder(String mchId, String appid, byte[] key) {
            this.mchId = Objects.requireNonNull(mchId, "mchId");
            this.appid = Objects.requireNonNull(appid, "appid");
            this.key = Objects.requireNonNull(key, "key").clone();
        }

        /**
         * Relay mode: the terminal's bearer token (from {@code wxface-relay token add}); never
         * shown by {@link #toString()}. Only with {@link WxFaceConfig#relayBuilder(String)}.
         */
        public Builder relayToken(String token) {
            this.relayToken = Objects.requireNonNull(token, "token");
            return this;
        }

        /**
         * Relay mode: the terminal's client certificate chain and private key, in PEM, for
         * mutual TLS (the relay takes the device id from the certificate). Both are copied;
         * {@link WxFaceConfig#wipeKey()} also wipes the configuration's copy of the key.
         */
        public Builder relayClientCert(byte[] certPem, byte[] keyPem) {
            this.relayCertPem = Objects.requireNonNull(certPem, "certPem").clone();
            this.relayKeyPem = Objects.requireNonNull(keyPem, "keyPem").clone();
            return this;
        }

        /** Sub-merchant number (service-provider mode); {@code null} or empty means none. */
        public Builder subMchId(String subMchId) {
            this.subMchId = subMchId;
            return this;
        }

        /** Sub-merchant appid (service-provider mode); {@code null} or empty means none. */
        public Builder subAppid(String subAppid) {
            this.subAppid = subAppid;
            return this;
        }

        /**
         * Base URL, default {@code https://payapp.weixin.qq.com}. Must be {@code https://};
         * {@code http://} is accepted only for a loopback host (tests, the mock server). An empty
         * string restores the default.
         */
        public Builder baseUrl(String baseUrl) {
            this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
            return this;
        }

        /**
         * Adds a fallback base URL (same rules as {@link #baseUrl(String)}). After a transient
         * failure the next URL is tried; the client then keeps using the URL that last worked.
         */
        public Builder fallbackBaseUrl(String url) {
            fallbackBaseUrls.add(Objects.requireNonNull(url, "url"));
            return this;
        }

        /**
         * Replaces every base URL: the first becomes the primary ({@link #baseUrl(String)}), the
         * others the fallbacks. An empty list keeps the primary and removes the fallbacks.
         *
         * @throws NullPointerException if the list or an element is {@code null}
         */
        public Builder baseUrls(List<String> urls) {
            Objects.requireNonNull(urls, "urls");
            List<String> copy = new ArrayList<String>(urls);
            for (String u : copy) {
                Objects.requireNonNull(u, "urls element");
            }
            fallbackBaseUrls.clear();
            if (!copy.isEmpty()) {
                baseUrl = copy.get(0);
                fallbackBaseUrls.addAll(copy.subList(1, copy.size()));
            }
            return this;
        }

        /** Signature algorithm, default {@link SignType#HMAC_SHA256}. */
        public Builder signType(SignType signType) {
            this.signType = Objects.requireNonNull(signType, "signType");
            return this;
        }

        /** Connect timeout in milliseconds. */
        public Builder connectTimeoutMillis(long millis) {
            this.connectTimeoutMillis = millis;
            return this;
        }

        /**
         * Overall timeout of one call in milliseconds. It bounds the whole call: every attempt,
         * every wait between retries and the clock-skew retry.
         */
        public Builder timeoutMillis(long millis) {
            this.timeoutMillis = millis;
            return this;
        }

        /**
         * Bound on one attempt in milliseconds, so a hanging host gives way to a retry or a
         * fallback URL. 0 (the default) means none: an attempt may use what is left of the
         * overall timeout.
         */
        public Builder attemptTimeoutMillis(long millis) {
            this.attemptTimeoutMillis = millis;
            return this;
        }

        /**
         * Retries after a transient failure (connection refused, DNS, timeout, reset, HTTP 5xx,
         * {@code SYSTEMERROR}); 0 disables retrying.
         */
        public Builder maxRetries(int retries) {
            this.maxRetries = retries;
            return this;
        }

        /**
         * Idle connections the client keeps open per host for reuse (default 8, at most 256;
         * 0 means the default). Use at least the number of threads that share the client.
         */
        public Builder maxIdleConnections(int connections) {
            this.maxIdleConnections = connections;
            return this;
        }

        /**
         * Backoff between retries: the first wait and the largest one in milliseconds. Each wait
         * is jittered down to half its nominal value.
         */
        public Builder backoff(long initialMillis, long maxMillis) {
            this.backoffInitialMillis = initialMillis;
            this.backoffMaxMillis = maxMillis;
            return this;
        }

        /**
         * Whether a {@code PARAM_ERROR 非法的Now参数} answer makes the client estimate its clock's
         * skew from the response's HTTP {@code Date}, retry once with a corrected {@code now} and
         * keep the offset for later calls. Default {@code true}. Never applies to a request with
         * {@link AuthinfoRequest#withNow(long)}.
         */
        public Builder clockSkewCorrection(boolean enabled) {
            this.clockSkewCorrection = enabled;
            return this;
        }

        /**
         * Whether the client caches authinfos per identity (appid, mchId, subAppid, subMchId,
         * storeId, deviceId) and returns a cached one while it is fresh. Default {@code true}.
         */
        public Builder cache(boolean enabled) {
            this.cache = enabled;
            return this;
        }

        /**
         * A fixed cache refresh margin in seconds: a cached authinfo is refreshed once its
         * remaining validity is at or below it. Default: a share of {@code expires_in} (see
         * docs/field.md).
         */
        public Builder cacheRefreshMarginSeconds(long seconds) {
            this.cacheRefreshMarginSeconds = seconds;
            return this;
        }

        /**
         * An explicit proxy: {@code http://host:port} (HTTP CONNECT) or
         * {@code socks5://host:port} (SOCKS5, host names resolved by the proxy). Credentials may
         * be percent-encoded in the URL or given with {@link #proxyCredentials(String, String)}.
         * {@code null} or empty means none.
         */
        public Builder proxy(String url) {
            this.proxy = url;
            return this;
        }

        /**
         * User name and password for the proxy (basic auth for HTTP CONNECT, user/password for
         * SOCKS5), taken verbatim. The password never appears in {@link #toString()}, an
         * exception message or a log line.
         */
        public Builder proxyCredentials(String user, String password) {
            this.proxyUser = Objects.requireNonNull(user, "user");
            this.proxyPassword = Objects.requireNonNull(password, "password");
            return this;
        }

        /**
         * Adds trusted root certificates from PEM bytes (one or more {@code CERTIFICATE} blocks),
         * on top of the bundled Mozilla roots unless {@link #builtinRoots(boolean)} is
         * {@code false}. The array is copied.
         */
        public Builder caPem(byte[] pem) {
            caPems.add(Objects.requireNonNull(pem, "pem").clone());
            return this;
        }

        /** Adds trusted root certificates from a PEM file, read when a client is created. */
        public Builder caFile(String path) {
            caFiles.add(Objects.requireNonNull(path, "path"));
            return this;
        }

        /**
         * Whether the bundled Mozilla roots are trusted. Default {@code true}; {@code false}
         * trusts only the roots given with {@link #caPem(byte[])} / {@link #caFile(String)}.
         */
        public Builder builtinRoots(boolean enabled) {
            this.builtinRoots = enabled;
            return this;
        }

        /**
         * Which roots verify the server besides the CAs above: {@link TrustStore#BUNDLED}
         * (default), {@link TrustStore#SYSTEM} (on Android the system CA directory) or
         * {@link TrustStore#BOTH}. The system store is read when a client is created.
         */
        public Builder trustStore(TrustStore store) {
            this.trustStore = Objects.requireNonNull(store, "store");
            return this;
        }

        /**
         * Reads the system store from {@code path} instead of the platform's location: a
         * directory of PEM files laid out like Android's, or a PEM bundle file.
         */
        public Builder systemCaPath(String path) {
            this.systemCaPath = Objects.requireNonNull(path, "path");
            return this;
        }

        /**
         * Android: also trust the CAs the user added in Settings (default {@code false}: a
         * user-installed CA can intercept the traffic). Elsewhere it needs
         * {@link #userCaPath(String)}.
         */
        public Builder userCas(boolean enabled) {
            this.userCas = enabled;
            return this;
        }

        /**
         * Reads the user-added CAs from {@code path} (a directory like Android's, or a bundle
         * file) instead of Android's location; implies {@code userCas(true)}.
         */
        public Builder userCaPath(String path) {
            this.userCaPath = Objects.requireNonNull(path, "path");
            return this;
        }

        /**
         * The logger and the most verbose level it receives. Default: none. {@code null} removes
         * the logger.
         */
        public Builder logger(WxFaceLogger logger, WxFaceLogger.Level level) {
            this.logger = logger;
            this.logLevel = Objects.requireNonNull(level, "level");
            return this;
        }

        /** The logger at the library's default level ({@code INFO}); {@code null} removes it. */
        public Builder logger(WxFaceLogger logger) {
            this.logger = logger;
            return this;
        }

        /** The configuration. Values are validated when a client is created from it. */
        public WxFaceConfig build() {
            return new WxFaceConfig(this);
        }
    }
}
