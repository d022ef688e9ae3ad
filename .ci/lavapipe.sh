#!/usr/bin/env bash
# Fetches Mesa's lavapipe (Vulkan on the CPU) >= 25 from Debian bookworm-backports and unpacks it into a cache
# folder WITHOUT installing it: the system's packages and apt sources stay as they are (a private apt config holds
# the backports source). Prints the path of the ICD file it writes; INSTRUCTALIGN_VULKAN=lavapipe finds it there.
# Debian's own lavapipe (22.3 in bookworm) is refused by Dawn; 25.x gives shader-f16 and 8-wide subgroups.
#   usage: .ci/lavapipe.sh            (cache: ${XDG_CACHE_HOME:-~/.cache}/instructalign/lavapipe)
set -euo pipefail
CACHE="${INSTRUCTALIGN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/instructalign}/lavapipe"
ICD="$CACHE/lvp_icd.json"
if [ -f "$ICD" ] && [ -f "$(sed -n 's/.*"library_path": *"\([^"]*\)".*/\1/p' "$ICD")" ]; then
  echo "$ICD"
  exit 0
fi
mkdir -p "$CACHE"
A="$CACHE/apt"
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/debs"
# the mirror the machine already uses (deb822 or one-line sources), else Debian's CDN
URI=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$URI" ] || URI=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$URI" ] || URI=http://deb.debian.org/debian
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $URI bookworm-backports main" >"$A/sources.list"
APTOPTS=(-o "Dir::Etc::sourcelist=$A/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$A/lists"
  -o "Dir::Cache=$A/cache" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root)
apt-get "${APTOPTS[@]}" update -qq >&2
VER=$(apt-cache "${APTOPTS[@]}" policy mesa-vulkan-drivers | awk '/Candidate:/{print $2}')
case "$VER" in
2[5-9].* | [3-9][0-9].*) ;;
*)
  echo "lavapipe: bookworm-backports offers mesa-vulkan-drivers '$VER'; need >= 25" >&2
  exit 1
  ;;
esac
(cd "$A/debs" && apt-get "${APTOPTS[@]}" download -qq "mesa-vulkan-drivers=$VER" >&2)
rm -rf "$CACHE/root"
dpkg -x "$A/debs/"mesa-vulkan-drivers_*_amd64.deb "$CACHE/root"
LIB="$CACHE/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so"
[ -f "$LIB" ] || { echo "lavapipe: $LIB missing in the package" >&2; exit 1; }
API=$(cat "$CACHE"/root/usr/share/vulkan/icd.d/lvp_icd*.json | sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' | head -1)
printf '{ "ICD": { "api_version": "%s", "library_path": "%s" }, "file_format_version": "1.0.0" }\n' \
  "${API:-1.4.305}" "$LIB" >"$ICD.tmp"
mv "$ICD.tmp" "$ICD"
echo "lavapipe: mesa-vulkan-drivers $VER unpacked in $CACHE/root" >&2
echo "$ICD"
