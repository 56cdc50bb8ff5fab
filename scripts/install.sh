#!/usr/bin/env bash
# make install: `install.sh install STAGE DESTDIR PREFIX` copies what scripts/stage.sh laid out in
# STAGE to DESTDIR/PREFIX (the files of docs/c-api.md, "Installing"; DESTDIR is only prepended to
# where files are written, the files refer to PREFIX). make uninstall: `install.sh uninstall
# DESTDIR PREFIX` removes exactly those files.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

action=${1:-}
case "$action" in
    install) stage=$2 destdir=$3 prefix=$4 ;;
    uninstall) destdir=$2 prefix=$3 ;;
    *) echo "usage: $0 install STAGE DESTDIR PREFIX | uninstall DESTDIR PREFIX" >&2; exit 2 ;;
esac
[[ "$prefix" == /* ]] || { echo "install.sh: PREFIX must be an absolute path (got '$prefix')" >&2; exit 2; }

dest="$destdir$prefix"
files=(include/wxface.h "lib/libwxface.so.$version" "lib/$soname" lib/libwxface.so lib/libwxface.a
    lib/pkgconfig/wxface.pc lib/cmake/wxface/wxfaceConfig.cmake lib/cmake/wxface/wxfaceConfigVersion.cmake)

if [[ "$action" == uninstall ]]; then
    for f in "${files[@]}"; do rm -fv "$dest/$f"; done
    rmdir "$dest/lib/cmake/wxface" 2>/dev/null || true
    exit 0
fi

[[ -f "$stage/lib/libwxface.a" ]] || { echo "install.sh: nothing staged in $stage (run make lib)" >&2; exit 1; }
install -d "$dest/include" "$dest/lib/pkgconfig" "$dest/lib/cmake/wxface"
install -m 644 "$stage/include/wxface.h" "$dest/include/wxface.h"
if [[ -f "$stage/lib/libwxface.so.$version" ]]; then
    install -m 755 "$stage/lib/libwxface.so.$version" "$dest/lib/libwxface.so.$version"
    ln -sfn "libwxface.so.$version" "$dest/lib/$soname"
    ln -sfn "$soname" "$dest/lib/libwxface.so"
fi
install -m 644 "$stage/lib/libwxface.a" "$dest/lib/libwxface.a"
# The staged .pc is relocatable (prefix=${pcfiledir}/../..); an installed one names PREFIX, so
# that PKG_CONFIG_SYSROOT_DIR works for cross builds against a DESTDIR.
sed "s|^prefix=.*|prefix=$prefix|" "$stage/lib/pkgconfig/wxface.pc" >"$dest/lib/pkgconfig/wxface.pc"
chmod 644 "$dest/lib/pkgconfig/wxface.pc"
install -m 644 "$stage/lib/cmake/wxface/wxfaceConfig.cmake" "$stage/lib/cmake/wxface/wxfaceConfigVersion.cmake" \
    "$dest/lib/cmake/wxface/"
for f in "${files[@]}"; do
    [[ -e "$dest/$f" ]] && echo "installed $dest/$f"
done
exit 0
