package com.wxface;

/** The APIv2 signature algorithm of requests. WeChat signs its answer the same way. */
public enum SignType {
    /** {@code HMAC-SHA256}, keyed with the API key. The default. */
    HMAC_SHA256("HMAC-SHA256"),
    /** {@code MD5}, kept for old merchant setups. */
    MD5("MD5");

    private final String wireName;

    SignType(String wireName) {
        this.wireName = wireName;
    }

    /** The value sent as {@code sign_type}: {@code "HMAC-SHA256"} or {@code "MD5"}. */
    public String wireName() {
        return wireName;
    }
}
