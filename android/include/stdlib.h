/* wxface Android stub sysroot: <stdlib.h>. */
#ifndef WXFACE_ANDROID_STDLIB_H
#define WXFACE_ANDROID_STDLIB_H
#include <sys/cdefs.h>
#include <stddef.h>
__BEGIN_DECLS
void abort(void) __attribute__((__noreturn__));
char* getenv(const char* name);
void* malloc(size_t size);
void* calloc(size_t count, size_t size);
void* realloc(void* ptr, size_t size);
void free(void* ptr);
int posix_memalign(void** out, size_t alignment, size_t size);
__END_DECLS
#endif
