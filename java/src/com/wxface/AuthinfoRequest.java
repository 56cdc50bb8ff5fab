package com.wxface;

import java.util.Objects;

/**
 * What the terminal asks for: the store and device it is, and the face SDK's {@code rawdata}.
 * Immutable; {@link #withAttach(String)} and {@link #withNow(long)} return modified copies.
 *
 * <p>Values are validated by the native library before anything is sent (store_id and device_id
 * at most 32 characters, store_name 128, rawdata 2048; no control characters, no emoji or other
 * characters outside the Basic Multilingual Plane); a refused value throws
 * {@link IllegalArgumentException} naming the field. {@link #toString()} never shows the rawdata.
 */
public final class AuthinfoRequest {
    private final String storeId;
    private final String storeName;
    private final String deviceId;
    private final String rawdata;
    private final String attach;
    private final boolean hasNow;
    private final long now;

    /**
     * A request with the four required values.
     *
     * @param storeId store number defined by the merchant
     * @param storeName store name (UTF-8, often Chinese)
     * @param deviceId terminal number defined by the merchant
     * @param rawdata the face SDK's init data, passed through unchanged
     * @throws NullPointerException if an argument is {@code null}
     */
    public AuthinfoRequest(String storeId, String storeName, String deviceId, String rawdata) {
        this(Objects.requireNonNull(storeId, "storeId"),
                Objects.requireNonNull(storeName, "storeName"),
                Objects.requireNonNull(deviceId, "deviceId"),
                Objects.requireNonNull(rawdata, "rawdata"),
                null, false, 0);
    }

    private AuthinfoRequest(String storeId, String storeName, String deviceId, String rawdata,
            String attach, boolean hasNow, long now) {
        this.storeId = storeId;
        this.storeName = storeName;
        this.deviceId = deviceId;
        this.rawdata = rawdata;
        this.attach = attach;
        this.hasNow = hasNow;
        this.now = now;
    }

    /** A copy with {@code attach} (free-form, JSON by convention); {@code null} or empty: none. */
    public AuthinfoRequest withAttach(String attach) {
        String a = attach == null || attach.isEmpty() ? null : attach;
        return new AuthinfoRequest(storeId, storeName, deviceId, rawdata, a, hasNow, now);
    }

    /**
     * A copy that sends {@code now} (Unix time in seconds, 10 digits) instead of the current
     * system time. Milliseconds are refused.
     */
    public AuthinfoRequest withNow(long unixSeconds) {
        return new AuthinfoRequest(storeId, storeName, deviceId, rawdata, attach, true, unixSeconds);
    }

    /** The store number. */
    public String getStoreId() {
        return storeId;
    }

    /** The store name. */
    public String getStoreName() {
        return storeName;
    }

    /** The terminal number. */
    public String getDeviceId() {
        return deviceId;
    }

    /** The face SDK's rawdata. */
    public String getRawdata() {
        return rawdata;
    }

    /** The attach value, or {@code null}. */
    public String getAttach() {
        return attach;
    }

    /** True when {@link #getNow()} is sent instead of the current time. */
    public boolean hasNow() {
        return hasNow;
    }

    /** The explicit {@code now} in Unix seconds (meaningful when {@link #hasNow()}). */
    public long getNow() {
        return now;
    }

    @Override
    public String toString() {
        return "AuthinfoRequest{storeId=" + storeId + ", storeName=" + storeName
                + ", deviceId=" + deviceId + ", rawdata=<" + rawdata.length() + " chars>"
                + (attach != null ? ", attach=" + attach : "")
                + (hasNow ? ", now=" + now : "") + "}";
    }
}
