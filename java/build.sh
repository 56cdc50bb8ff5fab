#!/usr/bin/env bash
# Builds the Java binding: build/java/classes and build/java/wxface.jar (plain javac + jar,
# Java 8 bytecode so Android's D8/R8 and old devices take it). The jar carries the R8 keep
# rules as META-INF/proguard/wxface.pro, where R8 picks them up from a dependency jar.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/build/java"
command -v javac >/dev/null || { echo "java/build.sh: javac not found (install a JDK, e.g. openjdk-17-jdk-headless)" >&2; exit 1; }
rm -rf "$out/classes"
mkdir -p "$out/classes/META-INF/proguard"
# shellcheck disable=SC2046
javac --release 8 -encoding UTF-8 -Xlint:all -Werror -d "$out/classes" \
    $(find "$root/java/src" -name '*.java' | sort)
cp "$root/java/proguard-rules.pro" "$out/classes/META-INF/proguard/wxface.pro"
rm -f "$out/wxface.jar"
jar --create --file "$out/wxface.jar" -C "$out/classes" .
echo "built $out/wxface.jar"
