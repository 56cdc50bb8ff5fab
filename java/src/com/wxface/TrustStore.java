package com.wxface;

/**
 * Which root certificates verify the server, besides the CAs given with
 * {@link WxFaceConfig.Builder#caPem(byte[])} / {@link WxFaceConfig.Builder#caFile(String)}.
 */
public enum TrustStore {
    /** Mozilla's roots, bundled in the native library. The default. */
    BUNDLED(0),
    /**
     * The device's own store, read when a client is created: on Android the system CA directory
     * ({@code /system/etc/security/cacerts}, or Conscrypt's on Android 14 and later), on Linux the
     * distribution's bundle.
     */
    SYSTEM(1),
    /** Both the bundled and the system roots. */
    BOTH(2);

    private final int code;

    TrustStore(int code) {
        this.code = code;
    }

    /** The C ABI's {@code WXFACE_TRUST_*} number. */
    public int code() {
        return code;
    }
}
