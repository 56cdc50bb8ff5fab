/* wxface Android stub sysroot: <unistd.h>, syscall(2) only. */
#ifndef WXFACE_ANDROID_UNISTD_H
#define WXFACE_ANDROID_UNISTD_H
#include <sys/cdefs.h>
__BEGIN_DECLS
long syscall(long number, ...);
__END_DECLS
#endif
