#!/bin/sh
# deps.sh: installs the Debian packages the build and the tests need, and the
# deb-src entries (bookworm and trixie) that `apt-get source` fetches from.
# Only what is missing is installed; run as root on Debian. libclang-rt-dev
# holds libFuzzer and the sanitizer runtimes (make fuzz, make unit-asan);
# zlib1g-dev the glibc zlib those host builds link.
set -eu
pkgs="make gcc libc6-dev musl-tools clang llvm bpftool linux-libc-dev bzip2 xz-utils ca-certificates
      nodejs npm iproute2 strace cpio qemu-system-x86 openssh-server openssh-client util-linux
      systemd passwd prometheus nginx chromium
      libclang-rt-dev zlib1g-dev"
src=/etc/apt/sources.list.d/ebpf-mcp-src.sources
need_update=0
if [ ! -f "$src" ]; then
	cat >"$src" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	need_update=1
fi
missing=""
for p in $pkgs; do
	# nodejs may come from another repository as one package with npm inside
	if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
	if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
if [ -n "$missing" ] || [ "$need_update" = 1 ] || ! apt-cache showsrc libbpf 2>/dev/null | grep -q 'Version: 1.5.0'; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps.sh: need root to install:$missing" >&2
		exit 1
	fi
	echo "deps: apt-get install$missing"
	apt-get update -qq
	[ -z "$missing" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
