/* wxface Android stub sysroot: <assert.h> (bionic's __assert2, present at every API level). */
#include <sys/cdefs.h>
#undef assert
#if defined(NDEBUG)
#define assert(e) ((void)0)
#else
__BEGIN_DECLS
void __assert2(const char* file, int line, const char* function, const char* expr)
    __attribute__((__noreturn__));
__END_DECLS
#define assert(e) ((e) ? (void)0 : __assert2(__FILE__, __LINE__, __PRETTY_FUNCTION__, #e))
#endif
