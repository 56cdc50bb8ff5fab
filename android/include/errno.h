/* wxface Android stub sysroot: <errno.h> (bionic's per-thread errno accessor). */
#ifndef WXFACE_ANDROID_ERRNO_H
#define WXFACE_ANDROID_ERRNO_H
#include <sys/cdefs.h>
__BEGIN_DECLS
int* __errno(void) __attribute__((__const__));
__END_DECLS
#define errno (*__errno())
#endif
#ifndef EFAULT
#define EFAULT 14
#define EINVAL 22
#endif
