/* wxface Android stub sysroot: <dlfcn.h>, dladdr only (libdl at every API level). */
#ifndef WXFACE_ANDROID_DLFCN_H
#define WXFACE_ANDROID_DLFCN_H
#include <sys/cdefs.h>
typedef struct {
  const char* dli_fname;
  void* dli_fbase;
  const char* dli_sname;
  void* dli_saddr;
} Dl_info;
__BEGIN_DECLS
int dladdr(const void* addr, Dl_info* info);
__END_DECLS
#endif
