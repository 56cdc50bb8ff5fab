package com.wxface;

/**
 * Options of one {@link WxFaceClient#getAuthinfo(AuthinfoRequest, CallOptions)} call, like the
 * Rust core's {@code CallOptions}. Immutable; start from {@link #DEFAULT} and use the
 * {@code with...} methods, e.g. {@code CallOptions.DEFAULT.withForceRefresh(true)}.
 */
public final class CallOptions {
    /** The options of {@link WxFaceClient#getAuthinfo(AuthinfoRequest)}: cache used, no forced refresh. */
    public static final CallOptions DEFAULT = new CallOptions(false, true);

    private final boolean forceRefresh;
    private final boolean useCache;

    private CallOptions(boolean forceRefresh, boolean useCache) {
        this.forceRefresh = forceRefresh;
        this.useCache = useCache;
    }

    /**
     * A copy that asks WeChat even if a fresh authinfo is cached (the new one replaces it; callers
     * waiting on the same store/device share the refresh). Default {@code false}.
     */
    public CallOptions withForceRefresh(boolean forceRefresh) {
        return new CallOptions(forceRefresh, useCache);
    }

    /**
     * A copy that reads and fills the client's cache ({@code true}, the default, when the cache
     * is enabled in the configuration) or bypasses it entirely ({@code false}).
     */
    public CallOptions withUseCache(boolean useCache) {
        return new CallOptions(forceRefresh, useCache);
    }

    /** Whether the call asks WeChat even if a fresh authinfo is cached. */
    public boolean isForceRefresh() {
        return forceRefresh;
    }

    /** Whether the call uses the client's cache. */
    public boolean isUseCache() {
        return useCache;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CallOptions && ((CallOptions) o).forceRefresh == forceRefresh
                && ((CallOptions) o).useCache == useCache;
    }

    @Override
    public int hashCode() {
        return (forceRefresh ? 2 : 0) + (useCache ? 1 : 0);
    }

    @Override
    public String toString() {
        return "CallOptions{forceRefresh=" + forceRefresh + ", useCache=" + useCache + "}";
    }
}
