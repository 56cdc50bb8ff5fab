#!/usr/bin/env python3
"""Where the bytes of an unstripped libwxface.so go: symbol sizes summed by crate (from
`nm -S -C`, the first path segment of each demangled name; C/assembly symbols by prefix), then
the sections that hold no symbols (unwind tables, relocations). Usage: size-breakdown.py NM LIB"""
import collections, re, subprocess, sys

nm, lib = sys.argv[1:]
run = lambda *cmd: subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
GROUPS = {c: "backtrace symbolizer (gimli/addr2line/miniz_oxide/rustc_demangle)"
          for c in ("gimli", "addr2line", "miniz_oxide", "rustc_demangle")}
GROUPS.update({c: "std/core/alloc" for c in ("std", "core", "alloc", "hashbrown", "std_detect")})
GROUPS.update(webpki_roots="webpki_roots (trust anchors)", webpki_root_certs="webpki_root_certs (root certificates)")
RING = ("ring_core", "GFp_", "ecp_nistz", "p256_", "p384_", "x25519", "ChaCha20", "aes_", "bn_", "gcm_",
        "sha256_block", "sha512_block", "LIMB", "chacha20", "CRYPTO_", "OPENSSL_", "fiat_", "k25519", "_ring")
by_crate = collections.Counter()
for parts in (line.split(None, 3) for line in run(nm, "-S", "-C", "--size-sort", lib).splitlines()):
    if len(parts) < 4 or parts[2].lower() in ("u", "w"):
        continue
    size, kind, name = int(parts[1], 16), parts[2].lower(), parts[3]
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::", re.sub(r"^(dyn |mut |const )+", "", name.lstrip("<&*")))
    if m:
        crate = m.group(1)
    elif name.startswith(RING):
        crate = "ring (C/asm)"
    elif name.startswith(("Java_", "JNI_")):
        crate = "jni exports"
    elif name.startswith("wxface_"):
        crate = "wxface"
    else:
        crate = "other (" + ("data" if kind in "drb" else "code") + ")"
    by_crate[GROUPS.get(crate, crate)] += size
sec = {p[0]: int(p[1]) for p in (line.split() for line in run(nm.replace("nm", "size"), "-A", lib).splitlines()[2:])
       if len(p) >= 2 and p[0].startswith(".")}
print(f"{'bytes':>10}  where (symbols by crate, then symbol-less sections)")
for crate, size in by_crate.most_common():
    if size >= 4096:
        print(f"{size:>10}  {crate}")
print(f"{sum(s for s in by_crate.values() if s < 4096):>10}  crates under 4 KB each")
print(f"{sum(by_crate.values()):>10}  = all symbols")
for name in (".text", ".rodata", ".eh_frame", ".eh_frame_hdr", ".gcc_except_table", ".rela.dyn", ".dynsym", ".dynstr"):
    if name in sec:
        print(f"{sec[name]:>10}  {name} (section{', holds most symbols above' if name in ('.text', '.rodata') else ''})")
