/*
 * Field options through the C ABI (cache, retries, deadline, failover, clock correction, TLS
 * trust, proxies, log callback), against mocks and proxies started by tests/c_abi.rs.
 *
 * Environment (all set by the harness):
 *   WXFACE_MOCK_KEY          the mocks' key
 *   WXFACE_MOCK_URL          a normal mock
 *   WXFACE_FLAKY_URL         a mock whose first 3 requests get HTTP 500
 *   WXFACE_SKEWED_URL        a mock whose clock is 1000 s ahead
 *   WXFACE_TLS_URL           an HTTPS mock, certificate for 127.0.0.1 from the test CA
 *   WXFACE_TLS_WRONG_URL     an HTTPS mock whose certificate names another host
 *   WXFACE_TLS_CA            the test CA, PEM file
 *   WXFACE_REFUSED_URL       a loopback URL where nothing listens
 *   WXFACE_HTTP_PROXY        tinyproxy (HTTP CONNECT)
 *   WXFACE_SOCKS_PROXY       microsocks (SOCKS5)
 * Prints "N passed, M failed"; exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "wxface.h"

#define RAWDATA "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo+/+/c-field-test=="

static const char *key;

static const char *env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL) {
        fprintf(stderr, "%s is not set (run through tests/c_abi.rs)\n", name);
        exit(2);
    }
    return v;
}

static wxface_config *config_for(const char *url) {
    wxface_config *c = wxface_config_new();
    check(wxface_config_set_mch_id(c, "1900000109") == WXFACE_OK, "mch_id");
    check(wxface_config_set_appid(c, "wx2421b1c4370ec43b") == WXFACE_OK, "appid");
    check(wxface_config_set_key(c, key) == WXFACE_OK, "key");
    check(wxface_config_set_base_url(c, url) == WXFACE_OK, "base_url");
    /* Generous, so that a slow machine under valgrind does not turn an expected answer into a
       timeout (the deadline test sets its own). */
    check(wxface_config_set_timeouts(c, 30000, 60000) == WXFACE_OK, "timeouts");
    return c;
}

/* Builds the client and frees the configuration; NULL (and a recorded failure) if refused. */
static wxface_client *client_of(wxface_config *c) {
    wxface_client *client = NULL;
    check(wxface_client_new(c, &client) == WXFACE_OK, "wxface_client_new");
    wxface_config_free(c);
    return client;
}

static wxface_request *request(const char *rawdata) {
    wxface_request *r = wxface_request_new();
    wxface_request_set_store_id(r, "1001");
    wxface_request_set_store_name(r, "深圳南山科技园店");
    wxface_request_set_device_id(r, "POS-01");
    wxface_request_set_rawdata(r, rawdata);
    return r;
}

/* One call; returns the status and gives the result to the caller through *out (may be NULL). */
static wxface_status call(wxface_client *client, const char *rawdata, uint32_t flags, wxface_authinfo **out) {
    wxface_request *r = request(rawdata);
    wxface_authinfo *info = NULL;
    wxface_status st = wxface_get_authinfo_ex(client, r, flags, &info);
    wxface_request_free(r);
    if (out != NULL) {
        *out = info;
    } else {
        wxface_authinfo_free(info);
    }
    return st;
}

static void test_cache(const char *url) {
    wxface_client *client = client_of(config_for(url));
    wxface_authinfo *a = NULL, *b = NULL;
    char first[256] = "";

    check(call(client, RAWDATA, 0, &a) == WXFACE_OK, "first call");
    check(!wxface_authinfo_from_cache(a) && wxface_authinfo_attempts(a) == 1, "first call asks WeChat");
    if (a != NULL) strncpy(first, wxface_authinfo_value(a), sizeof first - 1);
    check(call(client, RAWDATA, 0, &b) == WXFACE_OK, "second call");
    check(wxface_authinfo_from_cache(b) && wxface_authinfo_attempts(b) == 0, "second call is a cache hit");
    check(b != NULL && strcmp(wxface_authinfo_value(b), first) == 0, "same authinfo from the cache");
    check(wxface_authinfo_remaining_secs(b) > 3000 && wxface_authinfo_remaining_secs(b) <= 3600, "remaining validity");
    wxface_authinfo_free(a);
    wxface_authinfo_free(b);

    check(call(client, RAWDATA, WXFACE_CALL_FORCE_REFRESH, &a) == WXFACE_OK, "forced refresh");
    check(!wxface_authinfo_from_cache(a) && a != NULL && strcmp(wxface_authinfo_value(a), first) != 0, "new authinfo");
    wxface_authinfo_free(a);
    check(call(client, RAWDATA, WXFACE_CALL_NO_CACHE, &a) == WXFACE_OK && !wxface_authinfo_from_cache(a), "no cache");
    wxface_authinfo_free(a);
    check(wxface_client_clear_cache(client) == WXFACE_OK, "clear cache");
    check(call(client, RAWDATA, 0, &a) == WXFACE_OK && !wxface_authinfo_from_cache(a), "miss after clear");
    wxface_authinfo_free(a);
    check(call(client, RAWDATA, 0x80, NULL) == WXFACE_ERR_INVALID_ARGUMENT, "unknown flags refused");
    check(wxface_client_clear_cache(NULL) == WXFACE_ERR_INVALID_ARGUMENT, "clear cache NULL");

    /* A refresh that fails while the cached authinfo is valid serves it, flagged stale. */
    check(call(client, "MOCK:http-500", WXFACE_CALL_FORCE_REFRESH, &a) == WXFACE_OK, "stale result served");
    check(wxface_authinfo_is_stale(a), "flagged stale");
    check(wxface_authinfo_refresh_error_status(a) == WXFACE_ERR_HTTP_STATUS, "refresh error status");
    check(a != NULL && strstr(wxface_authinfo_refresh_error_message(a), "500") != NULL, "refresh error message");
    wxface_authinfo_free(a);
    /* Without a cached authinfo the same failure is an error. */
    check(call(client, "MOCK:http-500", WXFACE_CALL_NO_CACHE, NULL) == WXFACE_ERR_HTTP_STATUS, "no stale without cache");
    wxface_client_free(client);
}

static void test_retries_deadline_failover(const char *flaky, const char *url, const char *refused) {
    wxface_config *c;
    wxface_client *client;
    wxface_authinfo *a = NULL;
    time_t started;

    /* Retries disabled: the first 500 is returned. */
    c = config_for(flaky);
    check(wxface_config_set_retries(c, 0, 10, 50) == WXFACE_OK, "retries off");
    client = client_of(c);
    check(call(client, RAWDATA, 0, NULL) == WXFACE_ERR_HTTP_STATUS, "500 without retries");
    wxface_client_free(client);
    /* Two more 500s, then success on the third attempt. */
    c = config_for(flaky);
    check(wxface_config_set_retries(c, 3, 10, 50) == WXFACE_OK, "retries");
    client = client_of(c);
    check(call(client, RAWDATA, 0, &a) == WXFACE_OK, "success after retries");
    check(wxface_authinfo_attempts(a) == 3, "three attempts");
    wxface_authinfo_free(a);
    wxface_client_free(client);
    check(wxface_config_set_retries(NULL, 1, 1, 1) == WXFACE_ERR_INVALID_ARGUMENT, "retries NULL config");

    /* Final failures are not retried, whatever the retry budget. */
    c = config_for(url);
    check(wxface_config_set_retries(c, 5, 10, 20) == WXFACE_OK, "retries");
    check(wxface_config_set_cache(c, false, 0) == WXFACE_OK, "cache off");
    client = client_of(c);
    check(call(client, "MOCK:signed-error", 0, NULL) == WXFACE_ERR_REMOTE, "ERROR not retried");
    check(call(client, "MOCK:tampered-sign", 0, NULL) == WXFACE_ERR_SIGNATURE, "signature failure not retried");
    wxface_client_free(client);

    /* The overall timeout bounds the call, retries and waits included. */
    c = config_for(url);
    check(wxface_config_set_timeouts(c, 300, 1000) == WXFACE_OK, "timeouts");
    check(wxface_config_set_attempt_timeout_ms(c, 200) == WXFACE_OK, "attempt timeout");
    check(wxface_config_set_retries(c, 50, 10, 20) == WXFACE_OK, "many retries");
    client = client_of(c);
    started = time(NULL);
    check(call(client, "MOCK:hang", 0, NULL) == WXFACE_ERR_TIMEOUT, "deadline");
    check(time(NULL) - started <= 15, "deadline bound (functional, generous for valgrind)");
    wxface_client_free(client);

    /* Failover: the primary refuses connections, the fallback answers. */
    c = config_for(refused);
    check(wxface_config_add_fallback_base_url(c, url) == WXFACE_OK, "fallback url");
    check(wxface_config_add_fallback_base_url(c, NULL) == WXFACE_ERR_INVALID_ARGUMENT, "NULL fallback");
    client = client_of(c);
    check(call(client, RAWDATA, 0, &a) == WXFACE_OK, "failover success");
    check(wxface_authinfo_attempts(a) == 2, "two attempts (refused, then fallback)");
    wxface_authinfo_free(a);
    wxface_client_free(client);

    c = config_for(url);
    check(wxface_config_add_fallback_base_url(c, "http://example.com") == WXFACE_OK, "stored");
    check(wxface_client_new(c, &client) == WXFACE_ERR_INVALID_ARGUMENT && client == NULL, "bad fallback refused");
    wxface_config_free(c);
}

static void test_clock(const char *skewed) {
    wxface_client *client = client_of(config_for(skewed));
    wxface_authinfo *a = NULL;
    wxface_config *c;
    int64_t offset;

    check(call(client, RAWDATA, 0, &a) == WXFACE_OK, "clock corrected call");
    check(wxface_authinfo_clock_corrected(a), "clock corrected");
    offset = wxface_authinfo_clock_offset_secs(a);
    check(offset > 900 && offset < 1100, "offset about 1000 s");
    check(wxface_client_clock_offset_secs(client) == offset, "client keeps the offset");
    wxface_authinfo_free(a);
    check(call(client, RAWDATA, WXFACE_CALL_NO_CACHE, &a) == WXFACE_OK, "next call");
    check(!wxface_authinfo_clock_corrected(a) && wxface_authinfo_attempts(a) == 1, "uses the kept offset");
    wxface_authinfo_free(a);
    wxface_client_free(client);

    c = config_for(skewed);
    check(wxface_config_set_clock_skew_correction(c, false) == WXFACE_OK, "correction off");
    client = client_of(c);
    check(call(client, RAWDATA, 0, NULL) == WXFACE_ERR_REMOTE, "without correction");
    check(strcmp(wxface_last_error_return_msg(), "非法的Now参数") == 0, "非法的Now参数");
    wxface_client_free(client);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

/* Trust store choice: an Android-style system directory holding the mock's CA, and one holding
 * only another CA (as the system store) with the mock's CA as a user-added store. */
static void test_trust_store(const char *tls_url, const char *android_dir, const char *other_dir) {
    wxface_config *c;
    wxface_client *client;

    c = config_for(tls_url);
    check(wxface_config_set_trust_store(c, WXFACE_TRUST_SYSTEM) == WXFACE_OK, "system store");
    check(wxface_config_set_system_ca_path(c, android_dir) == WXFACE_OK, "system path");
    client = client_of(c);
    check(call(client, RAWDATA, 0, NULL) == WXFACE_OK, "HTTPS through an Android-style system store");
    wxface_client_free(client);

    c = config_for(tls_url);
    check(wxface_config_set_trust_store(c, WXFACE_TRUST_BOTH) == WXFACE_OK, "both stores");
    check(wxface_config_set_system_ca_path(c, other_dir) == WXFACE_OK, "system path");
    client = client_of(c);
    check(call(client, RAWDATA, 0, NULL) == WXFACE_ERR_TLS, "a store without the CA is a TLS error");
    wxface_client_free(client);

    c = config_for(tls_url);
    check(wxface_config_set_trust_store(c, WXFACE_TRUST_SYSTEM) == WXFACE_OK, "system store");
    check(wxface_config_set_system_ca_path(c, other_dir) == WXFACE_OK, "system path");
    check(wxface_config_set_user_ca_path(c, android_dir) == WXFACE_OK, "user path");
    client = client_of(c);
    check(call(client, RAWDATA, 0, NULL) == WXFACE_OK, "HTTPS through the user-added store");
    wxface_client_free(client);

    c = config_for(tls_url);
    check(wxface_config_set_trust_store(c, 3) == WXFACE_ERR_INVALID_ARGUMENT, "unknown trust store");
    check(strstr(wxface_last_error_message(), "trust_store") != NULL, "names trust_store");
    check(wxface_config_set_system_ca_path(c, NULL) == WXFACE_ERR_INVALID_ARGUMENT, "NULL path");
    check(wxface_config_set_user_cas(NULL, true) == WXFACE_ERR_INVALID_ARGUMENT, "NULL config");
    check(wxface_config_set_trust_store(c, WXFACE_TRUST_SYSTEM) == WXFACE_OK, "system store");
    check(wxface_config_set_system_ca_path(c, "/nonexistent/cacerts") == WXFACE_OK, "stored");
    check(wxface_client_new(c, &client) == WXFACE_ERR_INVALID_ARGUMENT, "missing store refused");
    check(strstr(wxface_last_error_message(), "system_ca_path") != NULL, "names system_ca_path");
    wxface_config_free(c);
}

static void test_tls(const char *tls_url, const char *wrong_url, const char *ca_file) {
    wxface_config *c;
    wxface_client *client;
    size_t len = 0;
    char *pem = read_file(ca_file, &len);
    check(pem != NULL, "read the CA file");

    c = config_for(tls_url);
    check(wxface_config_add_ca_file(c, ca_file) == WXFACE_OK, "ca file");
    client = client_of(c);
    check(call(client, RAWDATA, 0, NULL) == WXFACE_OK, "HTTPS with the CA file");
    wxface_client_free(client);

    c = config_for(tls_url);
    check(wxface_config_add_ca_pem(c, (const uint8_t *)pem, len) == WXFACE_OK, "ca pem");
    check(wxface_config_set_builtin_roots(c, false) == WXFACE_OK, "only our CA");
    client = client_of(c);
    check(call(client, RAWDATA, 0, NULL) == WXFACE_OK, "HTTPS with PEM bytes only");
    wxface_client_free(client);

    client = client_of(config_for(tls_url));
    check(call(client, RAWDATA, 0, NULL) == WXFACE_ERR_TLS, "unknown CA is a TLS error");
    wxface_client_free(client);

    c = config_for(wrong_url);
    check(wxface_config_add_ca_pem(c, (const uint8_t *)pem, len) == WXFACE_OK, "ca pem");
    client = client_of(c);
    check(call(client, RAWDATA, 0, NULL) == WXFACE_ERR_TLS, "wrong certificate name is a TLS error");
    wxface_client_free(client);

    c = config_for(tls_url);
    check(wxface_config_add_ca_pem(c, NULL, 10) == WXFACE_ERR_INVALID_ARGUMENT, "NULL pem");
    check(wxface_config_add_ca_pem(c, (const uint8_t *)"garbage", 7) == WXFACE_OK, "stored");
    check(wxface_client_new(c, &client) == WXFACE_ERR_INVALID_ARGUMENT, "bad PEM refused");
    wxface_config_free(c);
    c = config_for(tls_url);
    check(wxface_config_add_ca_file(c, "/nonexistent/ca.pem") == WXFACE_OK, "stored");
    check(wxface_client_new(c, &client) == WXFACE_ERR_INVALID_ARGUMENT, "missing CA file refused");
    wxface_config_free(c);
    free(pem);
}

static void test_proxies(const char *url, const char *http_proxy, const char *socks_proxy, const char *refused) {
    const char *proxies[2];
    wxface_config *c;
    wxface_client *client;
    int i;
    proxies[0] = http_proxy;
    proxies[1] = socks_proxy;
    for (i = 0; i < 2; i++) {
        c = config_for(url);
        check(wxface_config_set_proxy(c, proxies[i]) == WXFACE_OK, "proxy");
        client = client_of(c);
        check(call(client, RAWDATA, 0, NULL) == WXFACE_OK, i == 0 ? "through HTTP CONNECT" : "through SOCKS5");
        wxface_client_free(client);
    }
    c = config_for(url);
    check(wxface_config_set_proxy(c, refused) == WXFACE_OK, "dead proxy");
    check(wxface_config_set_retries(c, 0, 1, 1) == WXFACE_OK, "no retries");
    client = client_of(c);
    check(call(client, RAWDATA, 0, NULL) == WXFACE_ERR_NETWORK, "a dead proxy is a network error");
    wxface_client_free(client);
    c = config_for(url);
    check(wxface_config_set_proxy(c, "ftp://127.0.0.1:1") == WXFACE_OK, "stored");
    check(wxface_config_set_proxy_credentials(c, "user", "Pr0xyPassw0rd") == WXFACE_OK, "credentials");
    check(wxface_client_new(c, &client) == WXFACE_ERR_INVALID_ARGUMENT, "unsupported proxy scheme refused");
    check(strstr(wxface_last_error_message(), "Pr0xyPassw0rd") == NULL, "password not echoed");
    wxface_config_free(c);
}

/* Log capture: the callback may be called from several threads. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[65536];
static size_t log_len;
static int log_lines[5];

static void on_log(void *user_data, uint32_t level, const char *message) {
    size_t n = strlen(message);
    pthread_mutex_lock(&log_lock);
    (*(int *)user_data)++;
    if (level < 5) log_lines[level]++;
    if (log_len + n + 2 < sizeof log_text) {
        memcpy(log_text + log_len, message, n);
        log_len += n;
        log_text[log_len++] = '\n';
        log_text[log_len] = '\0';
    }
    pthread_mutex_unlock(&log_lock);
}

static void test_log(const char *url, const char *flaky_refused) {
    int count = 0;
    wxface_config *c = config_for(flaky_refused);
    wxface_client *client;
    wxface_authinfo *a = NULL;
    char authinfo[256] = "";

    check(wxface_config_add_fallback_base_url(c, url) == WXFACE_OK, "fallback");
    check(wxface_config_set_log_callback(c, on_log, &count, 99) == WXFACE_ERR_INVALID_ARGUMENT, "bad level");
    check(wxface_config_set_log_callback(c, on_log, &count, WXFACE_LOG_DEBUG) == WXFACE_OK, "log callback");
    client = client_of(c);
    check(call(client, RAWDATA, 0, &a) == WXFACE_OK, "logged call");
    if (a != NULL) strncpy(authinfo, wxface_authinfo_value(a), sizeof authinfo - 1);
    wxface_authinfo_free(a);
    check(call(client, RAWDATA, 0, NULL) == WXFACE_OK, "logged cache hit");
    check(call(client, "MOCK:signed-error", WXFACE_CALL_NO_CACHE, NULL) == WXFACE_ERR_REMOTE, "logged failure");
    wxface_client_free(client);

    check(count > 3 && log_lines[WXFACE_LOG_DEBUG] > 0 && log_lines[WXFACE_LOG_WARN] > 0, "lines at several levels");
    check(strstr(log_text, "cache") != NULL, "cache hit logged");
    check(strstr(log_text, key) == NULL, "no key in the log");
    check(strstr(log_text, RAWDATA) == NULL, "no rawdata in the log");
    check(authinfo[0] != '\0' && strstr(log_text, authinfo) == NULL, "no authinfo in the log");

    /* The level filter: nothing above INFO reaches the callback. */
    memset(log_lines, 0, sizeof log_lines);
    c = config_for(url);
    check(wxface_config_set_log_callback(c, on_log, &count, WXFACE_LOG_INFO) == WXFACE_OK, "info level");
    client = client_of(c);
    check(call(client, RAWDATA, 0, NULL) == WXFACE_OK && call(client, RAWDATA, 0, NULL) == WXFACE_OK, "calls");
    check(log_lines[WXFACE_LOG_DEBUG] == 0 && log_lines[WXFACE_LOG_INFO] > 0, "level filter");
    wxface_client_free(client);

    c = config_for(url);
    check(wxface_config_set_log_callback(c, NULL, NULL, WXFACE_LOG_DEBUG) == WXFACE_OK, "NULL callback removes it");
    wxface_config_free(c);
}

int main(void) {
    const char *url = env("WXFACE_MOCK_URL");
    const char *refused = env("WXFACE_REFUSED_URL");
    key = env("WXFACE_MOCK_KEY");
    test_cache(url);
    test_retries_deadline_failover(env("WXFACE_FLAKY_URL"), url, refused);
    test_clock(env("WXFACE_SKEWED_URL"));
    test_tls(env("WXFACE_TLS_URL"), env("WXFACE_TLS_WRONG_URL"), env("WXFACE_TLS_CA"));
    test_trust_store(env("WXFACE_TLS_URL"), env("WXFACE_TLS_ANDROID_DIR"), env("WXFACE_TLS_OTHER_DIR"));
    test_proxies(url, env("WXFACE_HTTP_PROXY"), env("WXFACE_SOCKS_PROXY"), refused);
    test_log(url, refused);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
