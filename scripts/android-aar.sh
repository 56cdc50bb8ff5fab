#!/usr/bin/env bash
# make aar: build/android/wxface-<version>.aar from what `make android` built (the layout:
# docs/android.md; zipped with the JDK's `jar`, no Android Gradle plugin) and a local Maven
# repository build/android/maven/com/wxface/wxface/<version>/wxface-<version>.{aar,pom} with
# maven-metadata.xml and checksums, for Gradle.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
jnilibs="$root/build/android/jniLibs"
stage="$root/build/android/aar"
aar="$root/build/android/wxface-$version.aar"
maven="$root/build/android/maven"

mapfile -t abis < <(cd "$jnilibs" 2>/dev/null && ls -d */ 2>/dev/null | tr -d / | sort)
((${#abis[@]})) || { echo "android-aar: nothing in $jnilibs: run scripts/android-build.sh (make android) first" >&2; exit 1; }

bash "$root/java/build.sh" >/dev/null
rm -rf "$stage" && mkdir -p "$stage"
cp "$root/android/AndroidManifest.xml" "$stage/AndroidManifest.xml"
cp "$root/java/proguard-rules.pro" "$stage/proguard.txt"
: >"$stage/R.txt"
# classes.jar: the classes only (the rules travel as proguard.txt in an AAR).
jar --create --no-manifest --file "$stage/classes.jar" -C "$root/build/java/classes" com
for a in "${abis[@]}"; do
    mkdir -p "$stage/jni/$a"
    cp "$jnilibs/$a/libwxface.so" "$stage/jni/$a/libwxface.so"
done
rm -f "$aar"
(cd "$stage" && jar --create --no-manifest --file "$aar" AndroidManifest.xml classes.jar proguard.txt R.txt jni)

dir="$maven/com/wxface/wxface/$version"
rm -rf "$maven/com/wxface/wxface" && mkdir -p "$dir"
cp "$aar" "$dir/wxface-$version.aar"
cat >"$dir/wxface-$version.pom" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.wxface</groupId>
  <artifactId>wxface</artifactId>
  <version>$version</version>
  <packaging>aar</packaging>
  <name>wxface</name>
  <description>WeChat Pay face-SDK authinfo client (libwxface.so with its JNI binding)</description>
  <licenses>
    <license><name>MIT OR Apache-2.0</name></license>
  </licenses>
</project>
POM
cat >"$maven/com/wxface/wxface/maven-metadata.xml" <<META
<?xml version="1.0" encoding="UTF-8"?>
<metadata>
  <groupId>com.wxface</groupId>
  <artifactId>wxface</artifactId>
  <versioning>
    <latest>$version</latest>
    <release>$version</release>
    <versions><version>$version</version></versions>
  </versioning>
</metadata>
META
for f in "$dir/wxface-$version.aar" "$dir/wxface-$version.pom" "$maven/com/wxface/wxface/maven-metadata.xml"; do
    sha1sum "$f" | cut -d' ' -f1 >"$f.sha1"
    sha256sum "$f" | cut -d' ' -f1 >"$f.sha256"
done
echo "android-aar: $aar ($(stat -c %s "$aar") bytes; ${abis[*]}) and $maven"
