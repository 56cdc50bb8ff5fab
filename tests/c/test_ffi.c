/*
 * Tests of the C ABI against the mock server, run by tests/c_abi.rs plainly and under valgrind.
 *
 * Environment: WXFACE_MOCK_URL (the mock's base URL), WXFACE_MOCK_KEY (its key),
 * WXFACE_REFUSED_URL (a loopback URL where nothing listens).
 * Prints one line per check and finally "N passed, M failed"; exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "wxface.h"

static const char *mock_url, *mock_key, *refused_url;

#define MCH_ID "1900000109"
#define APPID "wx2421b1c4370ec43b"

static wxface_config *make_config(const char *url, const char *key, uint32_t sign_type) {
    wxface_config *c = wxface_config_new();
    check(c != NULL, "wxface_config_new");
    check(wxface_config_set_mch_id(c, MCH_ID) == WXFACE_OK, "set mch_id");
    check(wxface_config_set_appid(c, APPID) == WXFACE_OK, "set appid");
    check(wxface_config_set_key(c, key) == WXFACE_OK, "set key");
    check(wxface_config_set_base_url(c, url) == WXFACE_OK, "set base_url");
    check(wxface_config_set_sign_type(c, sign_type) == WXFACE_OK, "set sign_type");
    /* Every call here must reach the mock; the cache is tested in test_field.c. */
    check(wxface_config_set_cache(c, false, 0) == WXFACE_OK, "cache off");
    return c;
}

static wxface_client *make_client(const char *url, const char *key, uint32_t sign_type) {
    wxface_config *c = make_config(url, key, sign_type);
    wxface_client *client = NULL;
    check(wxface_client_new(c, &client) == WXFACE_OK && client != NULL, "wxface_client_new");
    wxface_config_free(c);
    return client;
}

static wxface_request *make_request(const char *rawdata) {
    wxface_request *r = wxface_request_new();
    check(r != NULL, "wxface_request_new");
    check(wxface_request_set_store_id(r, "1001") == WXFACE_OK, "set store_id");
    check(wxface_request_set_store_name(r, "深圳南山科技园店") == WXFACE_OK, "set store_name");
    check(wxface_request_set_device_id(r, "POS-01") == WXFACE_OK, "set device_id");
    check(wxface_request_set_rawdata(r, rawdata) == WXFACE_OK, "set rawdata");
    return r;
}

/* One call with a fresh request; returns the status and frees everything. */
static wxface_status call(wxface_client *client, const char *rawdata) {
    wxface_request *r = make_request(rawdata);
    wxface_authinfo *info = (wxface_authinfo *)1; /* must be reset to NULL on failure */
    wxface_status st = wxface_get_authinfo(client, r, &info);
    check(st == WXFACE_OK ? info != NULL : info == NULL, "out is set exactly on success");
    wxface_authinfo_free(info);
    wxface_request_free(r);
    return st;
}

static void expect_remote(wxface_status st, const char *code, const char *msg, const char *what) {
    check(st == WXFACE_ERR_REMOTE, what);
    check(strcmp(wxface_last_error_return_code(), code) == 0, what);
    check(strcmp(wxface_last_error_return_msg(), msg) == 0, what);
}

static void test_static_functions(void) {
    check(strlen(wxface_version()) > 0, "version");
    check(wxface_abi_version() == WXFACE_ABI_VERSION, "abi version");
    check(strcmp(wxface_status_name(WXFACE_OK), "WXFACE_OK") == 0, "status name OK");
    check(strcmp(wxface_status_name(WXFACE_ERR_REMOTE), "WXFACE_ERR_REMOTE") == 0, "status name REMOTE");
    check(strcmp(wxface_status_name(12345), "WXFACE_ERR_UNKNOWN") == 0, "status name unknown");
}

static void test_null_and_invalid_arguments(void) {
    wxface_config *c = wxface_config_new();
    wxface_request *r = wxface_request_new();
    wxface_client *client = (wxface_client *)1;
    wxface_authinfo *info = (wxface_authinfo *)1;
    size_t needed = 0;

    check(wxface_config_set_mch_id(NULL, "1") == WXFACE_ERR_INVALID_ARGUMENT, "NULL config");
    check(wxface_config_set_mch_id(c, NULL) == WXFACE_ERR_INVALID_ARGUMENT, "NULL mch_id");
    check(strstr(wxface_last_error_message(), "mch_id") != NULL, "message names mch_id");
    check(wxface_config_set_sub_mch_id(c, NULL) == WXFACE_OK, "NULL clears an optional value");
    check(wxface_config_set_key(c, "short") == WXFACE_ERR_INVALID_ARGUMENT, "short key");
    check(strstr(wxface_last_error_message(), "short") == NULL, "key not echoed");
    check(wxface_config_set_key(c, NULL) == WXFACE_ERR_INVALID_ARGUMENT, "NULL key");
    check(wxface_config_set_sign_type(c, 77) == WXFACE_ERR_INVALID_ARGUMENT, "bad sign type");
    check(wxface_config_set_timeouts(c, 0, 100) == WXFACE_OK, "setters only convert: zero timeout stored");
    check(wxface_client_new(NULL, &client) == WXFACE_ERR_INVALID_ARGUMENT && client == NULL, "NULL config to client_new");
    check(wxface_client_new(c, NULL) == WXFACE_ERR_INVALID_ARGUMENT, "NULL out to client_new");
    check(wxface_client_new(c, &client) == WXFACE_ERR_INVALID_ARGUMENT && client == NULL, "incomplete config");
    check(strstr(wxface_last_error_message(), "mch_id") != NULL, "incomplete config names the field");
    check(wxface_config_set_mch_id(c, MCH_ID) == WXFACE_OK && wxface_config_set_appid(c, APPID) == WXFACE_OK, "ids");
    check(wxface_client_new(c, &client) == WXFACE_ERR_INVALID_ARGUMENT, "missing key");
    check(strstr(wxface_last_error_message(), "api_key") != NULL, "missing key named");
    check(wxface_config_set_key(c, mock_key) == WXFACE_OK, "key");
    check(wxface_config_set_base_url(c, "http://example.com") == WXFACE_OK, "base url stored");
    check(wxface_client_new(c, &client) == WXFACE_ERR_INVALID_ARGUMENT, "plain http to a public host refused");
    check(strstr(wxface_last_error_message(), "base_url") != NULL, "base_url named");
    check(wxface_config_set_base_url(c, mock_url) == WXFACE_OK, "base url");
    check(wxface_client_new(c, &client) == WXFACE_ERR_INVALID_ARGUMENT, "zero timeout refused by client_new");
    check(strstr(wxface_last_error_message(), "connect_timeout") != NULL, "zero timeout named");
    check(wxface_config_set_timeouts(c, 5000, 10000) == WXFACE_OK, "timeouts");
    check(wxface_client_new(c, &client) == WXFACE_OK && client != NULL, "client");
    check(wxface_last_error_status() == WXFACE_OK && wxface_last_error_message()[0] == '\0', "success clears the error");

    check(wxface_request_set_store_name(NULL, "x") == WXFACE_ERR_INVALID_ARGUMENT, "NULL request");
    check(wxface_request_set_store_name(r, "\xff\xfe bad") == WXFACE_ERR_INVALID_ARGUMENT, "bad UTF-8");
    check(strstr(wxface_last_error_message(), "store_name") != NULL &&
              strstr(wxface_last_error_message(), "UTF-8") != NULL, "bad UTF-8 named");
    check(wxface_get_authinfo(NULL, r, &info) == WXFACE_ERR_INVALID_ARGUMENT && info == NULL, "NULL client");
    check(wxface_get_authinfo(client, NULL, &info) == WXFACE_ERR_INVALID_ARGUMENT, "NULL request to call");
    check(wxface_get_authinfo(client, r, NULL) == WXFACE_ERR_INVALID_ARGUMENT, "NULL out");
    check(wxface_get_authinfo(client, r, &info) == WXFACE_ERR_INVALID_ARGUMENT, "empty request");
    check(strstr(wxface_last_error_message(), "store_id") != NULL, "missing store_id named");
    check(wxface_request_set_store_id(r, "1") == WXFACE_OK && wxface_request_set_store_name(r, "店") == WXFACE_OK &&
              wxface_request_set_device_id(r, "d") == WXFACE_OK, "fields");
    check(wxface_get_authinfo(client, r, &info) == WXFACE_ERR_INVALID_ARGUMENT, "missing rawdata");
    check(strstr(wxface_last_error_message(), "rawdata") != NULL, "missing rawdata named");
    check(wxface_request_set_rawdata(r, "rawdata") == WXFACE_OK && wxface_request_set_attach(r, "😀") == WXFACE_OK, "emoji attach stored");
    check(wxface_get_authinfo(client, r, &info) == WXFACE_ERR_INVALID_ARGUMENT, "emoji refused");
    check(strstr(wxface_last_error_message(), "attach") != NULL, "emoji field named");
    check(wxface_request_set_attach(r, "") == WXFACE_OK && wxface_request_set_now(r, 1700000000000LL) == WXFACE_OK, "ms now stored");
    check(wxface_get_authinfo(client, r, &info) == WXFACE_ERR_INVALID_ARGUMENT, "millisecond now refused");
    check(wxface_get_authinfo_oneshot(NULL, r, &info) == WXFACE_ERR_INVALID_ARGUMENT, "NULL config to oneshot");

    check(wxface_authinfo_value(NULL) == NULL && wxface_authinfo_expires_in(NULL) == 0, "NULL getters");
    check(wxface_authinfo_copy(NULL, NULL, 0, &needed) == WXFACE_ERR_INVALID_ARGUMENT, "NULL copy");
    wxface_authinfo_free(NULL);
    wxface_request_free(NULL);
    wxface_client_free(NULL);
    wxface_config_free(NULL);
    wxface_request_free(r);
    wxface_client_free(client);
    wxface_config_free(c);
}

static void test_success(uint32_t sign_type) {
    wxface_client *client = make_client(mock_url, mock_key, sign_type);
    wxface_request *r = make_request("BASE64+/rawdata==");
    wxface_authinfo *info = NULL;
    char small[4], big[8192];
    size_t needed = 0;

    check(wxface_request_set_attach(r, "{\"lane\":3,\"x\":\"<&>\"}") == WXFACE_OK, "attach");
    check(wxface_get_authinfo(client, r, &info) == WXFACE_OK && info != NULL, "success");
    if (info != NULL) {
        check(strlen(wxface_authinfo_value(info)) > 10, "authinfo present");
        check(wxface_authinfo_expires_in(info) == 3600, "expires_in");
        check(strcmp(wxface_authinfo_mch_id(info), MCH_ID) == 0, "mch_id echoed");
        check(strcmp(wxface_authinfo_appid(info), APPID) == 0, "appid echoed");
        check(strcmp(wxface_authinfo_sub_mch_id(info), "") == 0, "no sub_mch_id");
        check(wxface_authinfo_copy(info, small, sizeof small, &needed) == WXFACE_ERR_BUFFER_TOO_SMALL, "small buffer");
        check(needed == strlen(wxface_authinfo_value(info)) + 1, "needed size");
        check(wxface_authinfo_copy(info, NULL, 0, &needed) == WXFACE_ERR_BUFFER_TOO_SMALL, "size query");
        check(wxface_authinfo_copy(info, big, sizeof big, NULL) == WXFACE_OK, "copy");
        check(strcmp(big, wxface_authinfo_value(info)) == 0, "copy equals value");
    }
    wxface_authinfo_free(info);
    /* The same client again: connections are reused, the request can be reused. */
    info = NULL;
    check(wxface_get_authinfo(client, r, &info) == WXFACE_OK, "second call");
    wxface_authinfo_free(info);
    wxface_request_free(r);
    wxface_client_free(client);
}

static void test_sub_merchant_and_oneshot(void) {
    wxface_config *c = make_config(mock_url, mock_key, WXFACE_SIGN_HMAC_SHA256);
    wxface_request *r = make_request("rawdata");
    wxface_authinfo *info = NULL;
    check(wxface_config_set_sub_mch_id(c, "1230000109") == WXFACE_OK, "sub_mch_id");
    check(wxface_config_set_sub_appid(c, "wxsub0000000000001") == WXFACE_OK, "sub_appid");
    check(wxface_get_authinfo_oneshot(c, r, &info) == WXFACE_OK && info != NULL, "oneshot with sub merchant");
    if (info != NULL) {
        check(strcmp(wxface_authinfo_sub_mch_id(info), "1230000109") == 0, "sub_mch_id echoed");
        check(strcmp(wxface_authinfo_sub_appid(info), "wxsub0000000000001") == 0, "sub_appid echoed");
    }
    wxface_authinfo_free(info);
    wxface_request_free(r);
    wxface_config_free(c);
}

static void test_failures(void) {
    wxface_client *client = make_client(mock_url, mock_key, WXFACE_SIGN_MD5);
    wxface_client *wrong_key = make_client(mock_url, "0123456789abcdef0123456789abcdef", WXFACE_SIGN_MD5);
    wxface_client *refused = make_client(refused_url, mock_key, WXFACE_SIGN_MD5);
    wxface_config *slow_cfg = make_config(mock_url, mock_key, WXFACE_SIGN_MD5);
    wxface_client *slow = NULL;
    wxface_request *skewed = make_request("rawdata");
    wxface_authinfo *info = NULL;
    time_t started;

    expect_remote(call(wrong_key, "rawdata"), "PARAM_ERROR", "签名错误", "unsigned PARAM_ERROR");
    expect_remote(call(client, "MOCK:signed-error"), "ERROR", "无效的RawData数据", "signed ERROR");
    check(!wxface_status_is_transient(WXFACE_ERR_REMOTE), "ERROR is final");
    expect_remote(call(client, "MOCK:signed-system-error"), "SYSTEMERROR", "生成authinfo失败", "signed SYSTEMERROR");
    check(wxface_status_is_transient(WXFACE_ERR_REMOTE), "SYSTEMERROR is transient");
    check(wxface_request_set_now(skewed, (int64_t)time(NULL) - 1000) == WXFACE_OK, "set now");
    expect_remote(wxface_get_authinfo(client, skewed, &info), "PARAM_ERROR", "非法的Now参数", "clock skew");
    check(call(client, "MOCK:tampered-sign") == WXFACE_ERR_SIGNATURE, "tampered signature");
    check(wxface_last_error_http_status() == 0, "no HTTP status for a signature failure");
    check(!wxface_status_is_transient(WXFACE_ERR_SIGNATURE), "a bad signature is final");
    check(wxface_last_error_return_code()[0] == '\0', "no return_code for a non-remote error");
    check(call(client, "MOCK:missing-sign") == WXFACE_ERR_SIGNATURE, "missing signature");
    check(call(client, "MOCK:wrong-mch-id") == WXFACE_ERR_BAD_RESPONSE, "mismatched mch_id");
    check(call(client, "MOCK:http-500") == WXFACE_ERR_HTTP_STATUS, "HTTP 500");
    check(strstr(wxface_last_error_message(), "500") != NULL, "HTTP status in message");
    check(wxface_last_error_http_status() == 500, "HTTP status as a number");
    check(wxface_status_is_transient(WXFACE_ERR_HTTP_STATUS), "HTTP 500 is transient");
    check(call(client, "MOCK:not-xml") == WXFACE_ERR_BAD_RESPONSE, "non-XML body");
    check(call(client, "MOCK:truncated") == WXFACE_ERR_NETWORK, "truncated body");
    check(call(client, "MOCK:oversized") == WXFACE_ERR_BAD_RESPONSE, "body over the cap");
    check(call(client, "MOCK:drop") == WXFACE_ERR_NETWORK, "dropped connection");
    check(call(client, "MOCK:extra-fields") == WXFACE_OK, "unknown fields verify");
    check(call(refused, "rawdata") == WXFACE_ERR_NETWORK, "connection refused");
    check(wxface_status_is_transient(WXFACE_ERR_NETWORK), "connection refused is transient");

    check(wxface_config_set_timeouts(slow_cfg, WXFACE_DEFAULT_CONNECT_TIMEOUT_MS / 10,
                                     WXFACE_DEFAULT_TIMEOUT_MS / 10) == WXFACE_OK, "timeouts");
    check(wxface_client_new(slow_cfg, &slow) == WXFACE_OK, "slow client");
    started = time(NULL);
    check(call(slow, "MOCK:hang") == WXFACE_ERR_TIMEOUT, "server that never answers");
    /* A functional bound (1 s configured), generous for valgrind; not a speed measurement. */
    check(time(NULL) - started <= 15, "timeout returns within its bound");

    wxface_request_free(skewed);
    wxface_client_free(slow);
    wxface_config_free(slow_cfg);
    wxface_client_free(refused);
    wxface_client_free(wrong_key);
    wxface_client_free(client);
}

#define THREADS 4
#define CALLS 5

static void *worker(void *arg) {
    wxface_client *client = arg;
    long ok = 0;
    int i;
    for (i = 0; i < CALLS; i++) {
        wxface_request *r = wxface_request_new();
        wxface_authinfo *info = NULL;
        wxface_request_set_store_id(r, "1001");
        wxface_request_set_store_name(r, "店");
        wxface_request_set_device_id(r, "POS-T");
        wxface_request_set_rawdata(r, "rawdata");
        if (wxface_get_authinfo(client, r, &info) == WXFACE_OK && wxface_authinfo_expires_in(info) == 3600) ok++;
        wxface_authinfo_free(info);
        wxface_request_free(r);
    }
    return (void *)ok;
}

static void test_threads(void) {
    wxface_client *client = make_client(mock_url, mock_key, WXFACE_SIGN_HMAC_SHA256);
    pthread_t threads[THREADS];
    long total = 0;
    int i;
    for (i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, worker, client);
    for (i = 0; i < THREADS; i++) {
        void *ok = NULL;
        pthread_join(threads[i], &ok);
        total += (long)ok;
    }
    check(total == THREADS * CALLS, "concurrent calls on one client");
    wxface_client_free(client);
}

/* tests/bad_config.tsv: each bad value must give exactly the listed message, the same one the
 * Java binding gets (java/test/com/wxface/WxFaceTest.java reads the same file). */
static void test_bad_config(const char *path) {
    FILE *f = fopen(path, "r");
    char line[1024];
    int rows = 0;
    check(f != NULL, "open bad_config.tsv");
    if (f == NULL) return;
    while (fgets(line, sizeof line, f) != NULL) {
        char *option, *value, *expected, *second, *nl;
        wxface_config *c;
        wxface_client *client = NULL;
        wxface_status st = WXFACE_OK;
        if (line[0] == '#' || line[0] == '\n') continue;
        if ((nl = strchr(line, '\n')) != NULL) *nl = '\0';
        option = line;
        value = strchr(option, '\t');
        if (value == NULL) { check(0, "bad_config.tsv row has 3 columns"); continue; }
        *value++ = '\0';
        expected = strchr(value, '\t');
        if (expected == NULL) { check(0, "bad_config.tsv row has 3 columns"); continue; }
        *expected++ = '\0';
        second = strchr(value, ',');
        if (second != NULL) *second++ = '\0';
        c = make_config(mock_url, mock_key, WXFACE_SIGN_HMAC_SHA256);
        if (strcmp(option, "timeout") == 0) st = wxface_config_set_timeouts(c, 5000, (uint32_t)atoi(value));
        else if (strcmp(option, "connect_timeout") == 0) st = wxface_config_set_timeouts(c, (uint32_t)atoi(value), 10000);
        else if (strcmp(option, "backoff") == 0 && second != NULL)
            st = wxface_config_set_retries(c, 2, (uint32_t)atoi(value), (uint32_t)atoi(second));
        else if (strcmp(option, "max_idle_connections") == 0)
            st = wxface_config_set_max_idle_connections(c, (uint32_t)atoi(value));
        else if (strcmp(option, "base_url") == 0) st = wxface_config_set_base_url(c, value);
        else if (strcmp(option, "fallback_base_url") == 0) st = wxface_config_add_fallback_base_url(c, value);
        else if (strcmp(option, "sub_mch_id") == 0) st = wxface_config_set_sub_mch_id(c, value);
        else if (strcmp(option, "mch_id") == 0) st = wxface_config_set_mch_id(c, value);
        else if (strcmp(option, "proxy") == 0) st = wxface_config_set_proxy(c, value);
        else if (strcmp(option, "proxy_credentials") == 0 && second != NULL)
            st = wxface_config_set_proxy_credentials(c, value, second);
        else if (strcmp(option, "builtin_roots") == 0) st = wxface_config_set_builtin_roots(c, strcmp(value, "true") == 0);
        else if (strcmp(option, "ca_pem") == 0) st = wxface_config_add_ca_pem(c, (const uint8_t *)value, strlen(value));
        else if (strcmp(option, "key") == 0) st = wxface_config_set_key(c, value);
        else { printf("bad_config.tsv: unknown option %s\n", option); check(0, "known option"); }
        /* Only a conversion can fail in a setter (the key is converted to its type there);
         * every other value is refused by client_new. */
        if (st == WXFACE_OK) st = wxface_client_new(c, &client);
        check(st == WXFACE_ERR_INVALID_ARGUMENT && client == NULL, option);
        if (strcmp(wxface_last_error_message(), expected) != 0) {
            printf("  %s: got \"%s\", expected \"%s\"\n", option, wxface_last_error_message(), expected);
            check(0, "same message as listed in bad_config.tsv");
        } else {
            check(1, "same message as listed in bad_config.tsv");
        }
        wxface_client_free(client);
        wxface_config_free(c);
        rows++;
    }
    fclose(f);
    check(rows >= 10, "bad_config.tsv has its rows");
}

/* Debug builds of the library export this hook: the next call or constructor on this thread
 * panics inside the library. Declared weak so a release library can be tested too. */
extern void wxface_test_panic_next_call(void) __attribute__((weak));

static void test_panic_boundary(void) {
    wxface_client *client;
    wxface_request *r;
    wxface_authinfo *info = (wxface_authinfo *)1;
    if (wxface_test_panic_next_call == NULL) {
        printf("panic test skipped: the library has no test hook (release build)\n");
        return;
    }
    client = make_client(mock_url, mock_key, WXFACE_SIGN_HMAC_SHA256);
    r = make_request("rawdata");
    wxface_test_panic_next_call();
    check(wxface_get_authinfo(client, r, &info) == WXFACE_ERR_PANIC, "a panic inside wxface_get_authinfo is WXFACE_ERR_PANIC");
    check(info == NULL, "out is NULL after a panic");
    check(wxface_last_error_status() == WXFACE_ERR_PANIC && strstr(wxface_last_error_message(), "panic") != NULL,
          "the last error says panic");
    check(call(client, "rawdata") == WXFACE_OK, "the process and the client carry on after a panic");
    wxface_test_panic_next_call();
    check(wxface_request_new() == NULL && wxface_last_error_status() == WXFACE_ERR_PANIC,
          "a panic inside a constructor gives NULL");
    check(call(client, "rawdata") == WXFACE_OK, "and calls still work");
    printf("panic test ran\n");
    wxface_request_free(r);
    wxface_client_free(client);
}

int main(void) {
    mock_url = getenv("WXFACE_MOCK_URL");
    mock_key = getenv("WXFACE_MOCK_KEY");
    refused_url = getenv("WXFACE_REFUSED_URL");
    if (mock_url == NULL || mock_key == NULL || refused_url == NULL || getenv("WXFACE_BAD_CONFIG") == NULL) {
        fprintf(stderr, "set WXFACE_MOCK_URL, WXFACE_MOCK_KEY, WXFACE_REFUSED_URL and WXFACE_BAD_CONFIG\n");
        return 2;
    }
    test_static_functions();
    test_null_and_invalid_arguments();
    test_success(WXFACE_SIGN_HMAC_SHA256);
    test_success(WXFACE_SIGN_MD5);
    test_sub_merchant_and_oneshot();
    test_failures();
    test_threads();
    test_bad_config(getenv("WXFACE_BAD_CONFIG"));
    test_panic_boundary();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
