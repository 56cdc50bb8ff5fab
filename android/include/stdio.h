/* wxface Android stub sysroot: <stdio.h>.
 * Below API 23 bionic has no `stderr` symbol: the streams are the array __sF, whose element
 * size is part of the ABI (152 bytes on LP64, 84 on 32-bit), and stderr is &__sF[2]. */
#ifndef WXFACE_ANDROID_STDIO_H
#define WXFACE_ANDROID_STDIO_H
#include <sys/cdefs.h>
#include <stdarg.h>
#include <stddef.h>
struct __sFILE {
#if defined(__LP64__)
  char __private[152];
#else
  char __private[84];
#endif
} __attribute__((__aligned__(sizeof(void*))));
typedef struct __sFILE FILE;
__BEGIN_DECLS
extern FILE __sF[];
int fprintf(FILE* stream, const char* fmt, ...) __attribute__((__format__(printf, 2, 3)));
int vfprintf(FILE* stream, const char* fmt, va_list ap);
int snprintf(char* buf, size_t n, const char* fmt, ...) __attribute__((__format__(printf, 3, 4)));
int fflush(FILE* stream);
size_t fwrite(const void* buf, size_t size, size_t count, FILE* stream);
__END_DECLS
#define stdin (&__sF[0])
#define stdout (&__sF[1])
#define stderr (&__sF[2])
#endif
