/* wxface Android stub sysroot: <link.h> (bionic's dl_phdr_info layout). */
#ifndef WXFACE_ANDROID_LINK_H
#define WXFACE_ANDROID_LINK_H
#include <sys/cdefs.h>
#include <stddef.h>
#include <stdint.h>
#include <elf.h>
#if defined(__LP64__)
#define ElfW(type) Elf64_##type
#else
#define ElfW(type) Elf32_##type
#endif
struct dl_phdr_info {
  ElfW(Addr) dlpi_addr;
  const char* dlpi_name;
  const ElfW(Phdr)* dlpi_phdr;
  ElfW(Half) dlpi_phnum;
  unsigned long long dlpi_adds;
  unsigned long long dlpi_subs;
  size_t dlpi_tls_modid;
  void* dlpi_tls_data;
};
__BEGIN_DECLS
int dl_iterate_phdr(int (*callback)(struct dl_phdr_info* info, size_t size, void* data),
                    void* data);
#if defined(__arm__)
typedef uintptr_t _Unwind_Ptr;
_Unwind_Ptr dl_unwind_find_exidx(_Unwind_Ptr pc, int* count);
#endif
__END_DECLS
#endif
