/*
 * get_authinfo: exchange a face-SDK rawdata for an authinfo through wxface, the way a terminal's
 * firmware would. Run it with --help for the options.
 *
 * Configuration comes from --name=value arguments, or else from WXFACE_* environment variables
 * (the table is in usage() below). On success it prints the first characters of the authinfo,
 * its length and expires_in (exit 0): the authinfo is a credential, so it is printed whole only
 * with --print-authinfo (for piping it into the face SDK). On failure it prints the status
 * name, the message and, for WeChat's own failures, return_code and return_msg (exit 1).
 * Usage errors exit 2.
 *
 * Build against an installed wxface (make install, or an unpacked release archive):
 *   cc -std=c99 get_authinfo.c $(pkg-config --cflags --libs wxface) -o get_authinfo
 * or in this repository after `cargo build --release`:
 *   cc -std=c99 -Iinclude examples-c/get_authinfo.c -Ltarget/release -lwxface \
 *      -Wl,-rpath,$PWD/target/release -o get_authinfo
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wxface.h"

struct option_def {
    const char *arg;
    const char *env;
    const char *value;
};

enum {
    OPT_MCH_ID, OPT_APPID, OPT_KEY, OPT_SUB_MCH_ID, OPT_SUB_APPID, OPT_BASE_URL, OPT_SIGN_TYPE,
    OPT_TIMEOUT_MS, OPT_CA_FILE, OPT_STORE_ID, OPT_STORE_NAME, OPT_DEVICE_ID, OPT_RAWDATA, OPT_ATTACH, OPT_COUNT
};

static struct option_def options[OPT_COUNT] = {
    {"--mch-id", "WXFACE_MCH_ID", NULL},         {"--appid", "WXFACE_APPID", NULL},
    {"--key", "WXFACE_KEY", NULL},               {"--sub-mch-id", "WXFACE_SUB_MCH_ID", NULL},
    {"--sub-appid", "WXFACE_SUB_APPID", NULL},   {"--base-url", "WXFACE_BASE_URL", NULL},
    {"--sign-type", "WXFACE_SIGN_TYPE", NULL},   {"--timeout-ms", "WXFACE_TIMEOUT_MS", NULL},
    {"--ca-file", "WXFACE_CA_FILE", NULL},
    {"--store-id", "WXFACE_STORE_ID", NULL},     {"--store-name", "WXFACE_STORE_NAME", NULL},
    {"--device-id", "WXFACE_DEVICE_ID", NULL},   {"--rawdata", "WXFACE_RAWDATA", NULL},
    {"--attach", "WXFACE_ATTACH", NULL},
};

static int print_authinfo = 0;

static void usage(FILE *to) {
    fputs("usage: get_authinfo [--name=value ...] [--print-authinfo]\n"
          "\n"
          "Asks WeChat Pay (or the base URL given) for a face-SDK authinfo with libwxface.\n"
          "Each option may instead come from the environment variable beside it.\n"
          "\n"
          "  --mch-id       WXFACE_MCH_ID       merchant number (required)\n"
          "  --appid        WXFACE_APPID        appid (required)\n"
          "  --key          WXFACE_KEY          32-character APIv2 key (required; use the\n"
          "                                     environment: arguments show in `ps`)\n"
          "  --sub-mch-id   WXFACE_SUB_MCH_ID   sub-merchant number (service-provider mode)\n"
          "  --sub-appid    WXFACE_SUB_APPID    sub-merchant appid (service-provider mode)\n"
          "  --base-url     WXFACE_BASE_URL     default https://payapp.weixin.qq.com\n"
          "  --sign-type    WXFACE_SIGN_TYPE    HMAC-SHA256 (default) or MD5\n"
          "  --timeout-ms   WXFACE_TIMEOUT_MS   overall timeout, default 10000\n"
          "  --ca-file      WXFACE_CA_FILE      PEM file of a CA to trust besides the bundled\n"
          "                                     roots (a private CA, a test server)\n"
          "  --store-id     WXFACE_STORE_ID     store number (required)\n"
          "  --store-name   WXFACE_STORE_NAME   store name, UTF-8 (required)\n"
          "  --device-id    WXFACE_DEVICE_ID    terminal number (required)\n"
          "  --rawdata      WXFACE_RAWDATA      from the face SDK, byte for byte (required)\n"
          "  --attach       WXFACE_ATTACH       optional\n"
          "  --print-authinfo                   print the whole authinfo (it is a credential)\n"
          "\n"
          "Exit status: 0 success, 1 the call failed (status, message and WeChat's\n"
          "return_code/return_msg on stderr), 2 usage error.\n",
          to);
}

static int parse_options(int argc, char **argv) {
    int i, k;
    for (i = 1; i < argc; i++) {
        int matched = 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(argv[i], "--print-authinfo") == 0) {
            print_authinfo = 1;
            continue;
        }
        for (k = 0; k < OPT_COUNT; k++) {
            size_t n = strlen(options[k].arg);
            if (strncmp(argv[i], options[k].arg, n) == 0 && argv[i][n] == '=') {
                options[k].value = argv[i] + n + 1;
                matched = 1;
                break;
            }
        }
        if (!matched) {
            fprintf(stderr, "unknown argument: %s (try --help)\n", argv[i]);
            return -1;
        }
    }
    for (k = 0; k < OPT_COUNT; k++) {
        if (options[k].value == NULL) options[k].value = getenv(options[k].env);
    }
    return 0;
}

/* Prints why the last call failed and returns the exit code for a failure. */
static int report(const char *what, wxface_status st) {
    fprintf(stderr, "%s failed: %s: %s\n", what, wxface_status_name(st), wxface_last_error_message());
    if (st == WXFACE_ERR_REMOTE) {
        fprintf(stderr, "return_code: %s\nreturn_msg: %s\n", wxface_last_error_return_code(),
                wxface_last_error_return_msg());
    }
    return 1;
}

int main(int argc, char **argv) {
    wxface_config *config = NULL;
    wxface_client *client = NULL;
    wxface_request *request = NULL;
    wxface_authinfo *info = NULL;
    wxface_status st;
    int rc = 1;

    if (parse_options(argc, argv) != 0) return 2;
    if (wxface_abi_version() != WXFACE_ABI_VERSION) {
        fprintf(stderr, "libwxface ABI %u does not match the header's %u\n", wxface_abi_version(),
                (unsigned)WXFACE_ABI_VERSION);
        return 2;
    }

    config = wxface_config_new();
    request = wxface_request_new();
    if (config == NULL || request == NULL) goto out;

    /* Every setter checks its arguments; a missing required value is reported by name. */
    if ((st = wxface_config_set_mch_id(config, options[OPT_MCH_ID].value)) != WXFACE_OK ||
        (st = wxface_config_set_appid(config, options[OPT_APPID].value)) != WXFACE_OK ||
        (st = wxface_config_set_key(config, options[OPT_KEY].value)) != WXFACE_OK ||
        (st = wxface_config_set_sub_mch_id(config, options[OPT_SUB_MCH_ID].value)) != WXFACE_OK ||
        (st = wxface_config_set_sub_appid(config, options[OPT_SUB_APPID].value)) != WXFACE_OK ||
        (st = wxface_config_set_base_url(config, options[OPT_BASE_URL].value)) != WXFACE_OK ||
        (options[OPT_CA_FILE].value != NULL &&
         (st = wxface_config_add_ca_file(config, options[OPT_CA_FILE].value)) != WXFACE_OK)) {
        rc = report("configuration", st);
        goto out;
    }
    if (options[OPT_SIGN_TYPE].value != NULL && strcmp(options[OPT_SIGN_TYPE].value, "MD5") == 0) {
        wxface_config_set_sign_type(config, WXFACE_SIGN_MD5);
    }
    if (options[OPT_TIMEOUT_MS].value != NULL) {
        unsigned long ms = strtoul(options[OPT_TIMEOUT_MS].value, NULL, 10);
        if ((st = wxface_config_set_timeouts(config, (uint32_t)ms, (uint32_t)ms)) != WXFACE_OK) {
            rc = report("timeout", st);
            goto out;
        }
    }
    if ((st = wxface_client_new(config, &client)) != WXFACE_OK) {
        rc = report("wxface_client_new", st);
        goto out;
    }

    if ((st = wxface_request_set_store_id(request, options[OPT_STORE_ID].value)) != WXFACE_OK ||
        (st = wxface_request_set_store_name(request, options[OPT_STORE_NAME].value)) != WXFACE_OK ||
        (st = wxface_request_set_device_id(request, options[OPT_DEVICE_ID].value)) != WXFACE_OK ||
        (st = wxface_request_set_rawdata(request, options[OPT_RAWDATA].value)) != WXFACE_OK ||
        (options[OPT_ATTACH].value != NULL &&
         (st = wxface_request_set_attach(request, options[OPT_ATTACH].value)) != WXFACE_OK)) {
        rc = report("request", st);
        goto out;
    }

    st = wxface_get_authinfo(client, request, &info);
    if (st != WXFACE_OK) {
        rc = report("wxface_get_authinfo", st);
        goto out;
    }
    if (print_authinfo) {
        printf("authinfo: %s\n", wxface_authinfo_value(info));
    } else {
        /* Enough to recognise it, not enough to use it. */
        const char *value = wxface_authinfo_value(info);
        printf("authinfo: %.12s... (%zu bytes; --print-authinfo prints it whole)\n", value,
               strlen(value));
    }
    printf("expires_in: %u\n", wxface_authinfo_expires_in(info));
    rc = 0;

out:
    /* Every _free accepts NULL, so one cleanup path serves every exit. */
    wxface_authinfo_free(info);
    wxface_request_free(request);
    wxface_client_free(client);
    wxface_config_free(config);
    return rc;
}
