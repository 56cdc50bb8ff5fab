#!/usr/bin/env bash
# make size: the stripped size of libwxface.so for aarch64 Linux (the firmware target) without
# JNI, built with the release profile, against its budget; and for each TLS backend the crate
# offers. Installs the aarch64 cross gcc (Debian) and the Rust target when missing.
#
# Usage: scripts/size.sh [--check] [--breakdown]
#   --check       exit 1 when the rustls build is over WXFACE_SIZE_BUDGET bytes (default below)
#   --breakdown   also build with symbols and print where the bytes go, by crate
# Builds go to target/size (stripped) and target/size-syms (--breakdown); nothing else is touched.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The budget for the stripped aarch64 rustls build without JNI (docs/benchmarks.md, "Size").
budget=${WXFACE_SIZE_BUDGET:-2200000}
check=0
breakdown=0
for arg in "$@"; do
    case "$arg" in
        --check) check=1 ;;
        --breakdown) breakdown=1 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

target=aarch64-unknown-linux-gnu
if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "need aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)" >&2; exit 1; }
    echo "installing the aarch64 cross gcc..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu >/dev/null
fi
rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target" >/dev/null
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc

build() { # $1: target dir, $2...: extra cargo arguments
    local dir=$1
    shift
    cargo build --quiet --release --lib -p wxface --target "$target" --no-default-features \
        --target-dir "$dir" "$@"
}

status=0
build target/size
lib=target/size/$target/release/libwxface.so
size=$(stat -c %s "$lib")
verdict="within"
if [ "$size" -gt "$budget" ]; then verdict="OVER"; status=1; fi
printf '%-44s %9d B   budget %d B: %s\n' "aarch64 libwxface.so (rustls, no JNI)" "$size" "$budget" "$verdict"
if grep -q '^tls-openssl' Cargo.toml; then
    if build target/size-openssl --features tls-openssl 2>/dev/null; then
        printf '%-44s %9d B\n' "aarch64 libwxface.so (OpenSSL, no JNI)" \
            "$(stat -c %s "target/size-openssl/$target/release/libwxface.so")"
    else
        echo "aarch64 OpenSSL build skipped: needs libssl-dev:arm64 (multiarch)"
    fi
fi
if [ "$breakdown" = 1 ]; then
    CARGO_PROFILE_RELEASE_STRIP=false build target/size-syms
    python3 scripts/size-breakdown.py aarch64-linux-gnu-nm \
        "target/size-syms/$target/release/libwxface.so"
fi
if [ "$check" = 1 ] && [ "$status" != 0 ]; then
    echo "size check failed: $size B > budget $budget B (see docs/benchmarks.md for where it goes)" >&2
    exit 1
fi
