/* wxface Android stub sysroot: <signal.h>, what libunwind's aarch64 sigreturn check uses.
 * bionic: NSIG is the kernel's 64 signals + 1; sigset_t is an unsigned long. */
#ifndef WXFACE_ANDROID_SIGNAL_H
#define WXFACE_ANDROID_SIGNAL_H
#include <sys/cdefs.h>
typedef unsigned long sigset_t;
#define _NSIG 65
#define NSIG _NSIG
#endif
