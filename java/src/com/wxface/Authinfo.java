package com.wxface;

/**
 * A verified authinfo: WeChat answered SUCCESS, the signature checked out, and the answer echoed
 * this client's identifiers. Immutable and thread-safe. {@link #toString()} never shows the
 * credential itself.
 *
 * <p>It also tells how it was obtained: from the client's cache or not ({@link #isFromCache()}),
 * served stale because a refresh failed ({@link #isStale()}, {@link #getRefreshError()}), its
 * remaining validity ({@link #getRemainingMillis()}), the clock correction in force and the
 * number of HTTP attempts the call made.
 */
public final class Authinfo {
    private final String authinfo;
    private final long expiresIn;
    private final String appid;
    private final String mchId;
    private final String subAppid;
    private final String subMchId;
    private final boolean fromCache;
    private final boolean stale;
    private final WxFaceException refreshError;
    private final long remainingMillis;
    private final long clockOffsetSeconds;
    private final boolean clockCorrected;
    private final int attempts;

    /** Called by the native library (kept by {@code proguard-rules.pro}). */
    Authinfo(String authinfo, long expiresIn, String appid, String mchId, String subAppid,
            String subMchId, boolean fromCache, boolean stale, WxFaceException refreshError,
            long remainingMillis, long clockOffsetSeconds, boolean clockCorrected, int attempts) {
        this.authinfo = authinfo;
        this.expiresIn = expiresIn;
        this.appid = appid;
        this.mchId = mchId;
        this.subAppid = subAppid;
        this.subMchId = subMchId;
        this.fromCache = fromCache;
        this.stale = stale;
        this.refreshError = refreshError;
        this.remainingMillis = remainingMillis;
        this.clockOffsetSeconds = clockOffsetSeconds;
        this.clockCorrected = clockCorrected;
        this.attempts = attempts;
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

    /**
     * True when this call sent no request: the authinfo came from the client's cache, or from a
     * concurrent call for the same store/device that this one waited for.
     */
    public boolean isFromCache() {
        return fromCache;
    }

    /**
     * True when a refresh failed and a cached authinfo still within its {@code expires_in} was
     * returned instead; {@link #getRefreshError()} says why the refresh failed.
     */
    public boolean isStale() {
        return stale;
    }

    /** The refresh failure behind a stale authinfo ({@link #isStale()}), otherwise {@code null}. */
    public WxFaceException getRefreshError() {
        return refreshError;
    }

    /**
     * Validity left, in milliseconds, when the call returned (measured on the monotonic clock
     * from when the request was sent; 0 once expired). Subtract the time elapsed since.
     */
    public long getRemainingMillis() {
        return remainingMillis;
    }

    /**
     * The offset in seconds the client adds to the system clock for {@code now}; non-zero after a
     * clock-skew correction.
     */
    public long getClockOffsetSeconds() {
        return clockOffsetSeconds;
    }

    /** True when this call measured the clock skew and retried with a corrected {@code now}. */
    public boolean isClockCorrected() {
        return clockCorrected;
    }

    /** HTTP attempts made by this call (0 for a cache hit). */
    public int getAttempts() {
        return attempts;
    }

    @Override
    public String toString() {
        return "Authinfo{authinfo=<" + authinfo.length() + " chars>, expiresIn=" + expiresIn
                + ", appid=" + appid + ", mchId=" + mchId
                + (subAppid != null ? ", subAppid=" + subAppid : "")
                + (subMchId != null ? ", subMchId=" + subMchId : "")
                + ", fromCache=" + fromCache + (stale ? ", stale (" + refreshError + ")" : "")
                + ", remainingMillis=" + remainingMillis
                + (clockOffsetSeconds != 0 ? ", clockOffsetSeconds=" + clockOffsetSeconds : "")
                + (clockCorrected ? ", clockCorrected" : "")
                + ", attempts=" + attempts + "}";
    }
}
