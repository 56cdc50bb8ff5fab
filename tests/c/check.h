/* The assertion helper shared by the C test programs: counts checks and prints each failure
 * with the library's last status and message. Each program prints "N passed, M failed". */
#ifndef WXFACE_TEST_CHECK_H
#define WXFACE_TEST_CHECK_H

#include <stdio.h>

#include "wxface.h"

static int passed, failed;

static void check(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL: %s (last status %s: %s)\n", what, wxface_status_name(wxface_last_error_status()),
               wxface_last_error_message());
    }
}

#endif
