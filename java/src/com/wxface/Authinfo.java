package com.wxface;

/**
 * A verified authinfo: WeChat answered SUCCESS, the signature checked out, and the answer echoed
 * this client's identifiers. Immutable and thread-safe. {@link #toString()} never shows the
 * credential itself.
 */
public final class Authinfo {
    private final String authinfo;
    private final long expiresIn;
    private final String appid;
    private final String mchId;
    private final String subAppid;
    private final String subMchId;

    /** Called by the native library (kept by {@code proguard-rules.pro}). */
    Authinfo(String authinfo, long expiresIn, String appid, String mchId, String subAppid,
            String subMchId) {
        this.authinfo = authinfo;
        this.expiresIn = expiresIn;
        this.appid = appid;
        this.mchId = mchId;
        this.subAppid = subAppid;
        this.subMchId = subMchId;
    }

    /** The credential to hand to the face SDK. */
    public String getAuthinfo() {
        return authinfo;
    }

    /** Validity in seconds from receipt (3600 in practice); refresh ahead of expiry. */
    public long getExpiresIn() {
        return expiresIn;
    }

    /** The echoed appid. */
    public String getAppid() {
        return appid;
    }

    /** The echoed merchant number. */
    public String getMchId() {
        return mchId;
    }

    /** The echoed sub-merchant appid, or {@code null}. */
    public String getSubAppid() {
        return subAppid;
    }

    /** The echoed sub-merchant number, or {@code null}. */
    public String getSubMchId() {
        return subMchId;
    }

    @Override
    public String toString() {
        return "Authinfo{authinfo=<" + authinfo.length() + " chars>, expiresIn=" + expiresIn
                + ", appid=" + appid + ", mchId=" + mchId
                + (subAppid != null ? ", subAppid=" + subAppid : "")
                + (subMchId != null ? ", subMchId=" + subMchId : "") + "}";
    }
}
