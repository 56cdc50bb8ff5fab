/* wxface Android stub sysroot: a minimal stand-in for bionic's <sys/cdefs.h>.
 *
 * These headers declare only what LLVM libunwind (built into libunwind.a by
 * scripts/android-sysroot.sh) and ring's C code use, with bionic's ABI (type sizes, macros,
 * symbol names as of API 21). They are written for this project, not copied from bionic.
 * With the NDK none of this is used: cargo-ndk uses the NDK's own sysroot. */
#ifndef WXFACE_ANDROID_SYS_CDEFS_H
#define WXFACE_ANDROID_SYS_CDEFS_H
#define __BIONIC__ 1
#if defined(__cplusplus)
#define __BEGIN_DECLS extern "C" {
#define __END_DECLS }
#else
#define __BEGIN_DECLS
#define __END_DECLS
#endif
#endif
