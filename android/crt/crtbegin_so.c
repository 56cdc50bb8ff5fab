/* wxface Android stub sysroot: the start object of every shared library (hand-written; the
 * NDK's crtbegin_so.o does the same). Linked first by clang for -shared links.
 *
 * __dso_handle identifies this library to __cxa_atexit, through which atexit() below registers
 * its handlers, and __cxa_finalize runs them when the library is unloaded. Rust's thread-local
 * destructors never come here: Rust's Android targets have no native thread-local storage
 * (has_thread_local = false in rustc's target spec), so std keeps its thread locals under
 * pthread keys and runs their destructors as the keys' destructors, not through
 * __cxa_thread_atexit_impl (bionic's since API 23 only; scripts/android-verify.sh refuses a
 * library that imports it). WXFACE_ANDROID_API is the minimum API level, recorded in the
 * Android ident note the way the NDK's crtbrand does. */
extern void __cxa_finalize(void* dso);
extern int __cxa_atexit(void (*fn)(void*), void* arg, void* dso);

__attribute__((visibility("hidden"))) void* __dso_handle = &__dso_handle;

__attribute__((destructor, used)) static void wxface_crt_on_unload(void) {
  __cxa_finalize(&__dso_handle);
}

/* atexit() in a shared library registers against this library, so its handlers run on unload. */
__attribute__((visibility("hidden"))) int atexit(void (*fn)(void)) {
  return __cxa_atexit((void (*)(void*))fn, (void*)0, &__dso_handle);
}

#define WXFACE_STR2(x) #x
#define WXFACE_STR(x) WXFACE_STR2(x)
/* ELF note: name "Android", type 1, descriptor = the API level (32-bit). */
__asm__(".pushsection .note.android.ident,\"a\",%note\n"
        ".balign 4\n"
        ".long 8\n"
        ".long 4\n"
        ".long 1\n"
        ".ascii \"Android\\0\"\n"
        ".long " WXFACE_STR(WXFACE_ANDROID_API) "\n"
        ".popsection\n");
