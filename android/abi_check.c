/* wxface Android stub sysroot: the layouts of android/include, checked against bionic's figures
 * for each ABI. scripts/android-verify.sh compiles this file (clang -fsyntax-only) for the ABI
 * of the library it verifies; a failed _Static_assert fails the verification.
 *
 * Where the figures come from (AOSP bionic, aosp-mirror/platform_bionic):
 *   pthread_rwlock_t  libc/include/bits/pthread_types.h: int32_t __private[14] on LP64, [10] on
 *                     32-bit, so 56 or 40 bytes, 4-byte aligned
 *   FILE              libc/include/bits/struct_file.h: char __private[152] on LP64, [84] on
 *                     32-bit, aligned to sizeof(void*): the stride of __sF[] below API 23
 *   dl_phdr_info      libc/include/link.h: dlpi_addr, dlpi_name, dlpi_phdr, dlpi_phnum (ElfW(Half)),
 *                     then since API 30 dlpi_adds, dlpi_subs (unsigned long long), dlpi_tls_modid
 *                     (size_t), dlpi_tls_data; offsets below with each ABI's alignment of
 *                     unsigned long long (8 on arm, 4 on x86)
 *   errno             the kernel's asm-generic/errno-base.h, which bionic uses on every arch:
 *                     EFAULT 14, EINVAL 22
 *   signals           libc/include/bits/signal_types.h: NSIG = _NSIG = the kernel's 64 + 1;
 *                     sigset_t is one unsigned long (the kernel's on LP64, `unsigned long` on
 *                     32-bit) */
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>

/*                         rwlock FILE  name phdr phnum adds subs modid tls_data info sigset */
#if defined(__aarch64__)
#define BIONIC_FIGURES        56, 152,    8,  16,  24,   32,  40,  48,   56,      64,  8
#elif defined(__x86_64__)
#define BIONIC_FIGURES        56, 152,    8,  16,  24,   32,  40,  48,   56,      64,  8
#elif defined(__arm__)
#define BIONIC_FIGURES        40,  84,    4,   8,  12,   16,  24,  32,   36,      40,  4
#elif defined(__i386__)
#define BIONIC_FIGURES        40,  84,    4,   8,  12,   16,  24,  32,   36,      40,  4
#else
#error "not an Android ABI of this project"
#endif

#define CHECK(expr) _Static_assert(expr, #expr)
#define CHECK_ALL(rwlock, file, name, phdr, phnum, adds, subs, modid, tls_data, info, sigset) \
  CHECK(sizeof(pthread_rwlock_t) == rwlock);                                                \
  CHECK(_Alignof(pthread_rwlock_t) == 4);                                                   \
  CHECK(sizeof(FILE) == file);                                                              \
  CHECK(_Alignof(FILE) == sizeof(void*));                                                   \
  CHECK(offsetof(struct dl_phdr_info, dlpi_addr) == 0);                                     \
  CHECK(offsetof(struct dl_phdr_info, dlpi_name) == name);                                  \
  CHECK(offsetof(struct dl_phdr_info, dlpi_phdr) == phdr);                                  \
  CHECK(offsetof(struct dl_phdr_info, dlpi_phnum) == phnum);                                \
  CHECK(offsetof(struct dl_phdr_info, dlpi_adds) == adds);                                  \
  CHECK(offsetof(struct dl_phdr_info, dlpi_subs) == subs);                                  \
  CHECK(offsetof(struct dl_phdr_info, dlpi_tls_modid) == modid);                            \
  CHECK(offsetof(struct dl_phdr_info, dlpi_tls_data) == tls_data);                          \
  CHECK(sizeof(struct dl_phdr_info) == info);                                               \
  CHECK(sizeof(sigset_t) == sigset);                                                        \
  CHECK(EFAULT == 14);                                                                      \
  CHECK(EINVAL == 22);                                                                      \
  CHECK(NSIG == 65 && _NSIG == 65)
#define EXPAND(m, args) m args
EXPAND(CHECK_ALL, (BIONIC_FIGURES));
