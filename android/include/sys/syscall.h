/* wxface Android stub sysroot: <sys/syscall.h>, the Linux syscall numbers libunwind uses
 * (rt_sigprocmask, from the kernel's per-architecture tables). */
#ifndef WXFACE_ANDROID_SYS_SYSCALL_H
#define WXFACE_ANDROID_SYS_SYSCALL_H
#if defined(__aarch64__)
#define SYS_rt_sigprocmask 135
#elif defined(__x86_64__)
#define SYS_rt_sigprocmask 14
#elif defined(__arm__) || defined(__i386__)
#define SYS_rt_sigprocmask 175
#endif
#endif
