/* wxface Android stub sysroot: <inttypes.h>, the format macros only. */
#ifndef WXFACE_ANDROID_INTTYPES_H
#define WXFACE_ANDROID_INTTYPES_H
#include <stdint.h>
#if defined(__LP64__)
#define __WXFACE_PRI64 "l"
#define __WXFACE_PRIPTR "l"
#else
#define __WXFACE_PRI64 "ll"
#define __WXFACE_PRIPTR ""
#endif
#define PRIu8 "u"
#define PRIx8 "x"
#define PRIu16 "u"
#define PRIx16 "x"
#define PRId32 "d"
#define PRIi32 "i"
#define PRIu32 "u"
#define PRIx32 "x"
#define PRIX32 "X"
#define PRId64 __WXFACE_PRI64 "d"
#define PRIi64 __WXFACE_PRI64 "i"
#define PRIu64 __WXFACE_PRI64 "u"
#define PRIx64 __WXFACE_PRI64 "x"
#define PRIX64 __WXFACE_PRI64 "X"
#define PRIdPTR __WXFACE_PRIPTR "d"
#define PRIuPTR __WXFACE_PRIPTR "u"
#define PRIxPTR __WXFACE_PRIPTR "x"
#define PRIXPTR __WXFACE_PRIPTR "X"
#endif
