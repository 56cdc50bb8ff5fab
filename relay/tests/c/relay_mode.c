/* Relay mode from C: no API key on the terminal, a bearer token or a client certificate.
 *
 *   relay_mode RELAY_URL token TOKEN DEVICE
 *   relay_mode RELAY_URL cert CERT.pem KEY.pem CA.pem DEVICE
 *
 * Gets an authinfo (twice: the second from the library's cache), then one refused by WeChat
 * through the relay (WXFACE_ERR_REMOTE with WeChat's return_code/return_msg). Prints one line
 * per step; exits 0 only if every step behaved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wxface.h"

static int failures = 0;

static void check(int ok, const char *what) {
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    if (!ok) {
        failures++;
        printf("  last error: %s\n", wxface_last_error_message());
    }
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(65536);
    *len = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

static wxface_request *request(const char *store, const char *device, const char *rawdata) {
    wxface_request *req = wxface_request_new();
    wxface_request_set_store_id(req, store);
    wxface_request_set_store_name(req, "深圳南山科技园店");
    wxface_request_set_device_id(req, device);
    wxface_request_set_rawdata(req, rawdata);
    return req;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: see the comment at the top\n");
        return 2;
    }
    const char *url = argv[1];
    const char *device = NULL;
    wxface_config *cfg = wxface_config_new();
    check(wxface_config_set_relay_url(cfg, url) == WXFACE_OK, "set relay url");
    char *cert = NULL, *key = NULL;
    if (strcmp(argv[2], "token") == 0) {
        check(wxface_config_set_relay_token(cfg, argv[3]) == WXFACE_OK, "set relay token");
        device = argv[4];
    } else {
        if (argc < 7) return 2;
        size_t cert_len = 0, key_len = 0, ca_len = 0;
        cert = slurp(argv[3], &cert_len);
        key = slurp(argv[4], &key_len);
        char *ca = slurp(argv[5], &ca_len);
        if (!cert || !key || !ca) return 2;
        check(wxface_config_set_relay_client_cert(cfg, (const uint8_t *)cert, cert_len,
                                                  (const uint8_t *)key, key_len) == WXFACE_OK,
              "set relay client certificate");
        check(wxface_config_add_ca_pem(cfg, (const uint8_t *)ca, ca_len) == WXFACE_OK, "add CA");
        check(wxface_config_set_builtin_roots(cfg, false) == WXFACE_OK, "only that CA");
        memset(key, 0, key_len);
        free(ca);
        device = argv[6];
    }
    /* NULL arguments are refused, never a crash. */
    check(wxface_config_set_relay_url(NULL, url) == WXFACE_ERR_INVALID_ARGUMENT, "NULL config");
    check(wxface_config_set_relay_client_cert(cfg, NULL, 1, NULL, 1) ==
              WXFACE_ERR_INVALID_ARGUMENT,
          "NULL certificate");
    check(wxface_config_set_retries(cfg, 0, 100, 100) == WXFACE_OK, "no retries");
    {
        /* Both lengths 0 remove the certificate, NULL pointers included. */
        wxface_config *scratch = wxface_config_new();
        wxface_client *none = NULL;
        check(wxface_config_set_relay_url(scratch, url) == WXFACE_OK &&
                  wxface_config_set_relay_client_cert(scratch, (const uint8_t *)"x", 1,
                                                      (const uint8_t *)"y", 1) == WXFACE_OK &&
                  wxface_config_set_relay_client_cert(scratch, NULL, 0, NULL, 0) == WXFACE_OK,
              "NULL with both lengths 0 accepted");
        check(wxface_client_new(scratch, &none) == WXFACE_ERR_INVALID_ARGUMENT &&
                  strstr(wxface_last_error_message(), "needs a bearer token or a client certificate") != NULL,
              "the certificate was removed");
        wxface_client_free(none);
        wxface_config_free(scratch);
    }

    wxface_client *client = NULL;
    check(wxface_client_new(cfg, &client) == WXFACE_OK && client != NULL,
          "client without any API key");
    wxface_config_free(cfg);
    free(cert);
    free(key);
    if (!client) return 1;

    wxface_request *req = request("1001", device, "rawdata-from-the-face-sdk");
    wxface_authinfo *info = NULL;
    wxface_status st = wxface_get_authinfo(client, req, &info);
    check(st == WXFACE_OK && info != NULL, "authinfo through the relay");
    if (info) {
        check(strncmp(wxface_authinfo_value(info), "MOCKAUTHINFO", 12) == 0, "authinfo value");
        check(wxface_authinfo_expires_in(info) > 3000, "expires_in");
        check(strcmp(wxface_authinfo_mch_id(info), "1900000109") == 0, "mch_id from the relay");
        check(!wxface_authinfo_from_cache(info), "first call not from cache");
    }
    wxface_authinfo_free(info);
    info = NULL;
    st = wxface_get_authinfo(client, req, &info);
    check(st == WXFACE_OK && info && wxface_authinfo_from_cache(info),
          "second call from the library's cache");
    wxface_authinfo_free(info);
    wxface_request_free(req);

    req = request("1002", device, "MOCK:signed-error");
    info = NULL;
    st = wxface_get_authinfo(client, req, &info);
    check(st == WXFACE_ERR_REMOTE && info == NULL, "WeChat's refusal is WXFACE_ERR_REMOTE");
    const char *code = wxface_last_error_return_code();
    const char *msg = wxface_last_error_return_msg();
    check(code && strcmp(code, "ERROR") == 0, "return_code ERROR");
    check(msg && strcmp(msg, "无效的RawData数据") == 0, "return_msg");
    wxface_request_free(req);
    wxface_client_free(client);
    wxface_client_free(NULL);
    printf("%s\n", failures == 0 ? "ALL OK" : "FAILED");
    return failures == 0 ? 0 : 1;
}
