/* wxface Android stub sysroot: <signal.h>, what libunwind's aarch64 sigreturn check uses.
 * bionic: NSIG is the kernel's 64 signals + 1; sigset_t is an unsigned long on LP64. */
#ifndef WXFACE_ANDROID_SIGNAL_H
#define WXFACE_ANDROID_SIGNAL_H
#include <sys/cdefs.h>
#if defined(__LP64__)
typedef unsigned long sigset_t;
#else
typedef unsigned long sigset_t;
#endif
#define _NSIG 65
#define NSIG _NSIG
#endif
