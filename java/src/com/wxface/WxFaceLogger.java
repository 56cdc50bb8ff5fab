package com.wxface;

/**
 * Receives the client's log lines: each attempt, retry and failover, cache hit, miss and refresh,
 * clock correction, and the cause of each failure. Set one with
 * {@link WxFaceConfig.Builder#logger(WxFaceLogger, Level)}.
 *
 * <p>Lines name store_id, device_id, URLs, causes and durations. They never contain the API key,
 * the authinfo, the rawdata or a proxy password.
 *
 * <p>The logger is called synchronously on the thread making the call (inside
 * {@link WxFaceClient#getAuthinfo}), possibly from several threads at once, sometimes while the
 * client holds a per store/device lock: keep it quick, make it thread-safe, and never call back
 * into the same client from it. An exception it throws is caught and discarded by the native
 * library; it never breaks the call.
 *
 * <pre>{@code
 * .logger((level, message) -> Log.println(level.androidPriority(), "wxface", message),
 *         WxFaceLogger.Level.INFO)
 * }</pre>
 */
public interface WxFaceLogger {
    /**
     * One log line.
     *
     * @param level its severity
     * @param message one line of English text (never {@code null})
     */
    void log(Level level, String message);

    /**
     * Severity of a log line; the numbers match the Rust core's {@code wxface::log::Level} and the
     * C ABI's {@code WXFACE_LOG_*}.
     */
    enum Level {
        /** A call failed, with its cause. */
        ERROR(1),
        /** Something degraded: a retry or failover, a stale authinfo served, a clock correction. */
        WARN(2),
        /** A call's outcome: authinfo obtained (URL, attempts, expiry), cache miss or refresh. */
        INFO(3),
        /** Each attempt (URL, timeout) and each cache hit. */
        DEBUG(4);

        private final int value;

        Level(int value) {
            this.value = value;
        }

        /** The stable number: 1 (ERROR) to 4 (DEBUG). */
        public int value() {
            return value;
        }

        /**
         * The matching {@code android.util.Log} priority (ERROR 6, WARN 5, INFO 4, DEBUG 3), for
         * {@code Log.println(level.androidPriority(), tag, message)}.
         */
        public int androidPriority() {
            return 7 - value;
        }

        /**
         * The level with this number.
         *
         * @throws IllegalArgumentException outside 1..4
         */
        public static Level fromValue(int value) {
            for (Level l : values()) {
                if (l.value == value) {
                    return l;
                }
            }
            throw new IllegalArgumentException("no log level " + value);
        }
    }
}
