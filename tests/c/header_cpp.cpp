// The header must compile as C++ (cbindgen's cpp_compat adds the extern "C" block).
#include "wxface.h"

#include <cstring>

int main() {
    wxface_config *c = wxface_config_new();
    wxface_status st = wxface_config_set_mch_id(c, nullptr);
    wxface_config_free(c);
    return (st == WXFACE_ERR_INVALID_ARGUMENT && std::strlen(wxface_version()) > 0) ? 0 : 1;
}
