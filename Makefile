# wxface: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
# make install / uninstall: PREFIX is what the installed files refer to, DESTDIR where they go.
PREFIX ?= /usr/local
DESTDIR ?=
# make dist / dist-test: which archives (default: all six; see scripts/dist.sh --help).
DIST_TARGETS ?=
CROSS_TARGETS ?=

.PHONY: all demo test lib mock header java java-test android aar android-test cross-test fuzz size clean \
	install uninstall dist dist-test ship-test cli cli-cross-test relay relay-bench bench

all: lib

## Build the release library and lay it out as it is installed, under build/lib: include/,
## lib/libwxface.so.<version> with its SONAME and dev links, lib/libwxface.a, pkg-config, CMake.
lib:
	bash scripts/stage.sh --out build/lib

## Install what `make lib` staged under $(DESTDIR)$(PREFIX); `make uninstall` removes exactly that.
install: lib
	bash scripts/install.sh install build/lib "$(DESTDIR)" "$(PREFIX)"

uninstall:
	bash scripts/install.sh uninstall "$(DESTDIR)" "$(PREFIX)"

## Release archives dist/wxface-<version>-<triple>.tar.gz + SHA256SUMS: glibc 2.17 and musl,
## x86_64/aarch64/armv7, built with cargo-zigbuild (installed if missing).
dist:
	bash scripts/dist.sh $(DIST_TARGETS)

## Unpack each archive, build the C example through pkg-config and CMake with the target's
## compiler, run it under qemu-user against the mock, check glibc symbol versions.
dist-test:
	bash scripts/dist-test.sh $(DIST_TARGETS)

## Install layout, exports, symbol versions, static-archive isolation, the link lines of docs/c-api.md.
ship-test:
	bash scripts/ship-test.sh

## Build the mock payapp server (target/release/wxface-mock).
mock:
	$(CARGO) build --release -p wxface-mock

## Build, start the mock, call wxface_get_authinfo from C, print the result, stop the mock.
demo:
	@bash scripts/demo.sh

## Every check: format, lints, Rust tests (unit, doc, mock, header drift, C ABI plain and under
## valgrind; the TLS tests again with the OpenSSL backend), and the Java/JNI tests.
test:
	$(CARGO) fmt --all -- --check
	@# The shell scripts share variables through scripts/lib.sh, which shellcheck cannot follow.
	@if command -v shellcheck >/dev/null; then shellcheck -S warning -e SC1091,SC2034,SC2054,SC2154 \
		scripts/*.sh java/*.sh relay/tests/*.sh relay/bench/*.sh .ci/run; \
	else echo "shellcheck not installed: shell scripts not linted (.ci/run installs it)"; fi
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	$(CARGO) test --workspace
	$(CARGO) test -p wxface --no-default-features --features tls-openssl --lib --test tls --test secret_residue
	$(CARGO) test -p wxface-relay --no-default-features --features tls-openssl --test relay_library client_certificate
	@if [ -f java/test.sh ]; then bash java/test.sh; fi
	bash scripts/ship-test.sh
	bash relay/tests/java-relay.sh

## Regenerate include/wxface.h from src/ffi after changing the C ABI.
header:
	WXFACE_BLESS=1 $(CARGO) test --test header

## Build the Java API jar (build/java/wxface.jar).
java:
	bash java/build.sh

java-test:
	bash java/test.sh

## Android: libwxface.so for arm64-v8a, armeabi-v7a, x86_64, x86 at API 21 in
## build/android/jniLibs/<abi>/, statically verified (NDK if ANDROID_NDK_HOME is set, else the
## project's stub sysroot); the AAR and a local Maven repository in build/android/; the checks.
android:
	bash scripts/android-build.sh

aar: android
	bash scripts/android-aar.sh

android-test: aar
	bash scripts/android-test.sh

## Build for aarch64 and armv7 Linux with Debian's cross gcc, and run dist-test's checks on the
## staged libraries and the unit tests under qemu-user (scripts/dist-test.sh --cross, which
## replaced scripts/cross-test.sh). CROSS_TARGETS: some of the two.
cross-test:
	bash scripts/dist-test.sh --cross $(CROSS_TARGETS)

## Build the wxface command-line tool (target/release/wxface).
cli:
	$(CARGO) build --release -p wxface-cli

## Static musl builds of the wxface tool, each running doctor against the mock (qemu-user for
## ARM). CLI_CROSS_TARGETS: aarch64-unknown-linux-musl (default), armv7-unknown-linux-musleabihf,
## x86_64-unknown-linux-musl.
cli-cross-test:
	CLI_CROSS_TARGETS="$(or $(CLI_CROSS_TARGETS),aarch64-unknown-linux-musl)" bash scripts/cli-cross-test.sh

## Fuzz the XML codec, response verification, request validation and C setters (nightly;
## FUZZ_SECONDS per target, default 60).
fuzz:
	bash scripts/fuzz.sh $(or $(FUZZ_SECONDS),60)

## Stripped sizes: the host library, then the aarch64 one (no JNI) with rustls against its
## budget and with OpenSSL against its target, and where their bytes go.
size: lib
	@stat -c '%s bytes  %n' build/lib/lib/libwxface.so.*.*.* build/lib/lib/libwxface.a
	bash scripts/size.sh --breakdown

## Benchmarks beside the peers (wechatpay-axios-plugin, wechatpy): one table; see
## docs/benchmarks.md. Not part of `make test`.
bench:
	bash scripts/bench.sh

## Build the relay service (target/release/wxface-relay); see docs/relay.md.
relay:
	$(CARGO) build --release -p wxface-relay

## Load check of the relay (not a test): many terminals against one and two instances.
relay-bench:
	bash relay/bench/load.sh

clean:
	$(CARGO) clean
	rm -rf build dist
