package com.wxface;

/**
 * What the native library holds on to for a configured {@link WxFaceLogger}: a global reference
 * to this object, released when the client is closed. It turns the native level number into a
 * {@link WxFaceLogger.Level}. It deliberately catches nothing: the native side clears whatever the
 * logger throws, so an exception never reaches the call.
 *
 * <p>Kept by name by {@code proguard-rules.pro} (the native library reads the
 * {@code WxFaceConfig.logBridge} field and calls {@link #log(int, String)}).
 */
final class LogBridge {
    final WxFaceLogger logger;

    LogBridge(WxFaceLogger logger) {
        this.logger = logger;
    }

    /** Called by the native library with a level number (1..4) and the line. */
    void log(int level, String message) {
        WxFaceLogger.Level l;
        switch (level) {
            case 1: l = WxFaceLogger.Level.ERROR; break;
            case 2: l = WxFaceLogger.Level.WARN; break;
            case 3: l = WxFaceLogger.Level.INFO; break;
            default: l = WxFaceLogger.Level.DEBUG; break;
        }
        logger.log(l, message);
    }
}
