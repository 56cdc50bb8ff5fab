/* The header's version macros against the library's wxface_version() (scripts/ship-test.sh). */
#include <stdio.h>
#include <string.h>

#include "wxface.h"

int main(void) {
    char numbers[64];
    snprintf(numbers, sizeof numbers, "%d.%d.%d", WXFACE_VERSION_MAJOR, WXFACE_VERSION_MINOR,
             WXFACE_VERSION_PATCH);
    printf("header %s (%s), library %s\n", WXFACE_VERSION_STRING, numbers, wxface_version());
    return strcmp(WXFACE_VERSION_STRING, wxface_version()) == 0 &&
                   strcmp(numbers, wxface_version()) == 0
               ? 0
               : 1;
}
