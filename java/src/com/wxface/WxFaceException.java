package com.wxface;

/**
 * A call to WeChat failed. {@link #getStatus()} is the number the C ABI returns
 * ({@code WXFACE_ERR_*}) and {@link #getMessage()} the one-line English message it reports
 * ({@code wxface_last_error_message}); for a failure answered by WeChat ({@link #REMOTE}) the
 * message includes WeChat's {@code return_msg}, and {@link #getReturnCode()} /
 * {@link #getReturnMsg()} carry WeChat's values verbatim (e.g. {@code "ERROR"},
 * {@code "无效的RawData数据"}).
 *
 * <p>Invalid arguments (C status 1, {@code WXFACE_ERR_INVALID_ARGUMENT}) are reported as
 * {@link IllegalArgumentException} (or {@link NullPointerException} for a {@code null}), and a
 * closed client as {@link IllegalStateException}; those are programming errors, not outcomes of a
 * call. No message ever contains the API key.
 */
public class WxFaceException extends Exception {
    private static final long serialVersionUID = 1L;

    /** DNS failure, connection refused or reset, connection closed early. Retryable. */
    public static final int NETWORK = 2;
    /** The connect timeout or the overall call timeout expired. Retryable. */
    public static final int TIMEOUT = 3;
    /** TLS handshake or certificate verification failed. */
    public static final int TLS = 4;
    /** The server answered with an HTTP status other than 200. */
    public static final int HTTP_STATUS = 5;
    /** The body was not the XML the endpoint sends, too large, incomplete, or not for us. */
    public static final int BAD_RESPONSE = 6;
    /** A SUCCESS answer without a signature or with one that does not verify. */
    public static final int SIGNATURE = 7;
    /** WeChat answered with a failure; see {@link #getReturnCode()} and {@link #getReturnMsg()}. */
    public static final int REMOTE = 8;
    /** An internal error in the native library (a caught Rust panic or a JNI failure); a bug. */
    public static final int PANIC = 10;

    private final int status;
    private final String returnCode;
    private final String returnMsg;
    private final int httpStatus;
    private final boolean transientFailure;

    /**
     * Creates an exception without an HTTP status, not transient (for tests and fakes).
     *
     * @param status the C ABI status number
     * @param message the one-line English message (never contains the key)
     * @param returnCode WeChat's {@code return_code} for {@link #REMOTE}, else {@code null}
     * @param returnMsg WeChat's {@code return_msg} for {@link #REMOTE}, else {@code null}
     */
    public WxFaceException(int status, String message, String returnCode, String returnMsg) {
        this(status, message, returnCode, returnMsg, 0, false);
    }

    /**
     * Creates an exception (the native library does this).
     *
     * @param status the C ABI status number
     * @param message the one-line English message (never contains the key)
     * @param returnCode WeChat's {@code return_code} for {@link #REMOTE}, else {@code null}
     * @param returnMsg WeChat's {@code return_msg} for {@link #REMOTE}, else {@code null}
     * @param httpStatus the HTTP status for {@link #HTTP_STATUS}, else 0
     * @param transientFailure whether trying again later may succeed (the library's retry rule)
     */
    public WxFaceException(int status, String message, String returnCode, String returnMsg,
            int httpStatus, boolean transientFailure) {
        super(message);
        this.status = status;
        this.returnCode = returnCode;
        this.returnMsg = returnMsg;
        this.httpStatus = httpStatus;
        this.transientFailure = transientFailure;
    }

    /** The C ABI status number: one of the constants of this class. */
    public int getStatus() {
        return status;
    }

    /** The {@code WXFACE_ERR_*} name of {@link #getStatus()}, e.g. {@code "WXFACE_ERR_REMOTE"}. */
    public String getStatusName() {
        return statusName(status);
    }

    /** The HTTP status (e.g. 503) of an {@link #HTTP_STATUS} failure, else 0
     *  ({@code wxface_last_error_http_status}). */
    public int getHttpStatus() {
        return httpStatus;
    }

    /**
     * Whether trying again later may succeed, by the rule the library's own retries follow
     * (network and timeout failures, HTTP 5xx, WeChat's {@code SYSTEMERROR};
     * {@code wxface_status_is_transient}).
     */
    public boolean isTransient() {
        return transientFailure;
    }

    /** True when WeChat itself answered with a failure ({@link #REMOTE}). */
    public boolean isRemote() {
        return status == REMOTE;
    }

    /** WeChat's {@code return_code} (e.g. {@code ERROR}, {@code SYSTEMERROR}), or {@code null}. */
    public String getReturnCode() {
        return returnCode;
    }

    /** WeChat's {@code return_msg} (UTF-8, usually Chinese, may be empty), or {@code null}. */
    public String getReturnMsg() {
        return returnMsg;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(getClass().getName())
                .append(" [").append(statusName(status)).append(']');
        String message = getLocalizedMessage();
        if (message != null) {
            s.append(": ").append(message);
        }
        return s.toString();
    }

    /** The {@code WXFACE_ERR_*} name of a status number. */
    public static String statusName(int status) {
        switch (status) {
            case 1: return "WXFACE_ERR_INVALID_ARGUMENT";
            case NETWORK: return "WXFACE_ERR_NETWORK";
            case TIMEOUT: return "WXFACE_ERR_TIMEOUT";
            case TLS: return "WXFACE_ERR_TLS";
            case HTTP_STATUS: return "WXFACE_ERR_HTTP_STATUS";
            case BAD_RESPONSE: return "WXFACE_ERR_BAD_RESPONSE";
            case SIGNATURE: return "WXFACE_ERR_SIGNATURE";
            case REMOTE: return "WXFACE_ERR_REMOTE";
            case 9: return "WXFACE_ERR_BUFFER_TOO_SMALL";
            case PANIC: return "WXFACE_ERR_PANIC";
            default: return "WXFACE_ERR_" + status;
        }
    }
}
