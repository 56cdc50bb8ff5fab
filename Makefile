# wxface: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
SONAME := libwxface.so.0.$(shell sed -n 's/^version = "0\.\([0-9]*\)\..*/\1/p' Cargo.toml | head -n1)

.PHONY: all demo test lib mock header java java-test android aar android-test cross-test fuzz size clean

all: lib

## Build the release library (target/release/libwxface.so, libwxface.a) and its SONAME link.
lib:
	$(CARGO) build --release --lib -p wxface
	ln -sf libwxface.so target/release/$(SONAME)

## Build the mock payapp server (target/release/wxface-mock).
mock:
	$(CARGO) build --release -p wxface-mock

## Build, start the mock, call wxface_get_authinfo from C, print the result, stop the mock.
demo:
	@bash scripts/demo.sh

## Every check: format, lints, Rust tests (unit, doc, mock, header drift, C ABI plain and under
## valgrind), and the Java/JNI tests.
test:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace
	@if [ -f java/test.sh ]; then bash java/test.sh; fi

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

## Build for aarch64 and armv7 Linux and run the C example and unit tests under qemu-user.
cross-test:
	bash scripts/cross-test.sh

## Fuzz the XML codec, response verification, request validation and C setters (nightly;
## FUZZ_SECONDS per target, default 60).
fuzz:
	bash scripts/fuzz.sh $(or $(FUZZ_SECONDS),60)

## Print the stripped size of the release shared library.
size: lib
	@stat -c '%s bytes  %n' target/release/libwxface.so

clean:
	$(CARGO) clean
	rm -rf build
