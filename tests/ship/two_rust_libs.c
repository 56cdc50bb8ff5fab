/* Links libwxface.a and a second Rust static library (other_staticlib.rs) into one program,
 * as firmware with two Rust components does, and calls both. Used by scripts/ship-test.sh. */
#include <stdio.h>
#include <string.h>

#include "wxface.h"

int other_sum_to(int n);

int main(void) {
    int sum = other_sum_to(10);
    wxface_config *cfg = wxface_config_new();
    wxface_status st = wxface_config_set_key(cfg, "short");
    wxface_config_free(cfg);
    printf("wxface %s, other_sum_to(10) = %d, short key -> %s\n", wxface_version(), sum,
           wxface_status_name(st));
    return sum == 55 && st == WXFACE_ERR_INVALID_ARGUMENT ? 0 : 1;
}
