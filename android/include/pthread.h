/* wxface Android stub sysroot: <pthread.h>, the read-write lock only.
 * bionic's pthread_rwlock_t is 56 bytes on LP64 and 40 on 32-bit (glibc's 32-bit one is
 * smaller, which is why glibc headers must not be used for this), zero-initialised. */
#ifndef WXFACE_ANDROID_PTHREAD_H
#define WXFACE_ANDROID_PTHREAD_H
#include <sys/cdefs.h>
#include <stdint.h>
typedef struct {
#if defined(__LP64__)
  int32_t __private[14];
#else
  int32_t __private[10];
#endif
} pthread_rwlock_t;
#define PTHREAD_RWLOCK_INITIALIZER { { 0 } }
__BEGIN_DECLS
int pthread_rwlock_rdlock(pthread_rwlock_t* lock);
int pthread_rwlock_wrlock(pthread_rwlock_t* lock);
int pthread_rwlock_unlock(pthread_rwlock_t* lock);
__END_DECLS
#endif
