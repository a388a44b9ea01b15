#!/bin/sh
# build.sh OUT.cpio BINARY [MODULE.ko ...]
# The initramfs: BINARY as /init and the given kernel modules (uncompressed
# .ko, or .ko.xz decompressed here) in /lib/modules/, nothing else. Modules
# are numbered in the order given (01-virtio.ko, ...), dependencies first:
# init loads them in name order. The
# archive is reproducible: files are copied into a fresh staging tree, owned
# by 0:0, stamped with one fixed time (SOURCE_DATE_EPOCH, default 0) and
# listed in sorted order, so the same inputs give the same bytes.
set -eu
out=$1 bin=$2
shift 2
stage=$(mktemp -d "${TMPDIR:-/tmp}/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
epoch=${SOURCE_DATE_EPOCH:-0}

install -m 0755 "$bin" "$stage/init"
if [ $# -gt 0 ]; then
	mkdir -p "$stage/lib/modules"
	i=0
	for m in "$@"; do
		i=$((i + 1))
		name=$(printf '%02d-%s' "$i" "$(basename "$m")")
		case $name in
		*.ko.xz) xz -dc "$m" >"$stage/lib/modules/${name%.xz}" ;;
		*.ko) cp "$m" "$stage/lib/modules/$name" ;;
		*) echo "build.sh: $m is not a kernel module (.ko or .ko.xz)" >&2; exit 1 ;;
		esac
	done
	chmod 0644 "$stage"/lib/modules/*
fi
find "$stage" -exec touch -h -d "@$epoch" {} +
tmp=$out.tmp
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) >"$tmp"
mv "$tmp" "$out"
