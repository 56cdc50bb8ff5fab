package com.wxface;

import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable merchant configuration: identity, APIv2 key, endpoint, signature type and
 * timeouts. Build one with {@link #builder(String, String, byte[])}; every value is validated by
 * the native library when a {@link WxFaceClient} is created from it (an invalid value throws
 * {@link IllegalArgumentException} naming the field).
 *
 * <p>The key is copied. Wipe your own array once the configuration is built, and call
 * {@link #wipeKey()} once the clients you need are created: the native library keeps its own
 * copy in memory that it wipes when the client is closed. {@link #toString()} never shows the
 * key.
 */
public final class WxFaceConfig {
    /** WeChat Pay's payapp host. */
    public static final String DEFAULT_BASE_URL = "https://payapp.weixin.qq.com";
    /** Default connect timeout: 5 s. */
    public static final long DEFAULT_CONNECT_TIMEOUT_MILLIS = 5_000;
    /** Default bound on a whole call: 10 s. */
    public static final long DEFAULT_TIMEOUT_MILLIS = 10_000;

    private final String mchId;
    private final String appid;
    private final byte[] key;
    private final String subMchId;
    private final String subAppid;
    private final String baseUrl;
    private final SignType signType;
    private final long connectTimeoutMillis;
    private final long timeoutMillis;
    private volatile boolean keyWiped;

    private WxFaceConfig(Builder b) {
        this.mchId = b.mchId;
        this.appid = b.appid;
        this.key = b.key.clone();
        this.subMchId = b.subMchId;
        this.subAppid = b.subAppid;
        this.baseUrl = b.baseUrl;
        this.signType = b.signType;
        this.connectTimeoutMillis = b.connectTimeoutMillis;
        this.timeoutMillis = b.timeoutMillis;
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

    /** The base URL requests go to. */
    public String getBaseUrl() {
        return baseUrl;
    }

    /** The signature algorithm of requests. */
    public SignType getSignType() {
        return signType;
    }

    /** The connect timeout in milliseconds. */
    public long getConnectTimeoutMillis() {
        return connectTimeoutMillis;
    }

    /** The overall timeout of one call in milliseconds. */
    public long getTimeoutMillis() {
        return timeoutMillis;
    }

    /**
     * Overwrites this configuration's copy of the key with zeros. Clients already created keep
     * working; creating another client from this configuration then throws
     * {@link IllegalStateException}.
     */
    public void wipeKey() {
        synchronized (key) {
            Arrays.fill(key, (byte) 0);
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

    @Override
    public String toString() {
        return "WxFaceConfig{mchId=" + mchId + ", appid=" + appid
                + (subMchId != null ? ", subMchId=" + subMchId : "")
                + (subAppid != null ? ", subAppid=" + subAppid : "")
                + ", baseUrl=" + baseUrl + ", signType=" + signType
                + ", connectTimeoutMillis=" + connectTimeoutMillis
                + ", timeoutMillis=" + timeoutMillis + ", key=***}";
    }

    /** Builder for {@link WxFaceConfig}. Not thread-safe. */
    public static final class Builder {
        private final String mchId;
        private final String appid;
        private final byte[] key;
        private String subMchId;
        private String subAppid;
        private String baseUrl = DEFAULT_BASE_URL;
        private SignType signType = SignType.HMAC_SHA256;
        private long connectTimeoutMillis = DEFAULT_CONNECT_TIMEOUT_MILLIS;
        private long timeoutMillis = DEFAULT_TIMEOUT_MILLIS;

        private Builder(String mchId, String appid, byte[] key) {
            this.mchId = Objects.requireNonNull(mchId, "mchId");
            this.appid = Objects.requireNonNull(appid, "appid");
            this.key = Objects.requireNonNull(key, "key").clone();
        }

        /** Sub-merchant number (service-provider mode); {@code null} or empty means none. */
        public Builder subMchId(String subMchId) {
            this.subMchId = emptyToNull(subMchId);
            return this;
        }

        /** Sub-merchant appid (service-provider mode); {@code null} or empty means none. */
        public Builder subAppid(String subAppid) {
            this.subAppid = emptyToNull(subAppid);
            return this;
        }

        /**
         * Base URL, default {@link #DEFAULT_BASE_URL}. Must be {@code https://}; {@code http://}
         * is accepted only for a loopback host (tests, the mock server).
         */
        public Builder baseUrl(String baseUrl) {
            this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
            return this;
        }

        /** Signature algorithm, default {@link SignType#HMAC_SHA256}. */
        public Builder signType(SignType signType) {
            this.signType = Objects.requireNonNull(signType, "signType");
            return this;
        }

        /** Connect timeout in milliseconds (greater than zero), default 5000. */
        public Builder connectTimeoutMillis(long millis) {
            this.connectTimeoutMillis = positive("connectTimeoutMillis", millis);
            return this;
        }

        /** Overall timeout of one call in milliseconds (greater than zero), default 10000. */
        public Builder timeoutMillis(long millis) {
            this.timeoutMillis = positive("timeoutMillis", millis);
            return this;
        }

        /** The configuration. Values are validated when a client is created from it. */
        public WxFaceConfig build() {
            return new WxFaceConfig(this);
        }

        private static String emptyToNull(String s) {
            return s == null || s.isEmpty() ? null : s;
        }

        private static long positive(String name, long millis) {
            if (millis <= 0) {
                throw new IllegalArgumentException(name + " must be greater than zero, got " + millis);
            }
            return millis;
        }
    }
}
