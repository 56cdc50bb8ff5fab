/* wxface Android stub sysroot: <string.h>. */
#ifndef WXFACE_ANDROID_STRING_H
#define WXFACE_ANDROID_STRING_H
#include <sys/cdefs.h>
#include <stddef.h>
__BEGIN_DECLS
void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);
int strcmp(const char* a, const char* b);
__END_DECLS
#endif
