#!/bin/sh
# guest-kernel.sh DIR PACKAGE VERSION SHA256 MODULE...
# Fetches a Debian kernel package (downloaded and unpacked, never
# installed), checks it against the pinned sha256, and leaves in DIR:
#   vmlinux       the uncompressed kernel, for qemu's PVH entry (-kernel)
#   release       the kernel release (uname -r in the guest)
#   modules.list  the .ko files MODULE... need (copied to modules/),
#                 dependencies first
# The unpacked package (400 MB) is removed again.
set -eu
dir=$1 pkg=$2 ver=$3 sum=$4
shift 4
mkdir -p "$dir"
cd "$dir"
deb=${pkg}_${ver}_amd64.deb
if ! { [ -f "$deb" ] && echo "$sum  $deb" | sha256sum -c --status; }; then
	rm -f "$deb"
	apt-get download -q "$pkg=$ver" >apt.log 2>&1 || {
		cat apt.log >&2
		echo "guest-kernel.sh: apt-get download $pkg=$ver failed; a Debian point release may have" >&2
		echo "replaced it: pin the current version and sha256 in initramfs/initramfs.mk" >&2
		exit 1
	}
	echo "$sum  $deb" | sha256sum -c --status || {
		echo "guest-kernel.sh: $deb does not match the pinned sha256 $sum" >&2
		rm -f "$deb"
		exit 1
	}
fi
rm -rf root
dpkg-deb -x "$deb" root
release=$(ls root/lib/modules)
echo "$release" >release

# bzImage -> vmlinux: the setup header gives the protected-mode code's
# offset (setup_sects at 0x1f1, 0 meaning 4) and the compressed payload's
# place in it (payload_offset at 0x248, payload_length at 0x24c).
img=root/boot/vmlinuz-$release
u8() { od -A n -t u1 -j "$1" -N 1 "$img" | tr -d ' '; }
u32() { od -A n -t u4 -j "$1" -N 4 "$img" | tr -d ' '; }
sects=$(u8 497)
[ "$sects" -ne 0 ] || sects=4
start=$(( (sects + 1) * 512 + $(u32 584) ))
len=$(u32 588)
magic=$(od -A n -t x1 -j "$start" -N 6 "$img" | tr -d ' ')
case $magic in
fd377a585a00) unpack="xz -dc --single-stream" ;;
28b52ffd*) unpack="zstd -dc" ;;
1f8b*) unpack="gzip -dc" ;;
*) echo "guest-kernel.sh: unknown kernel compression (magic $magic)" >&2; exit 1 ;;
esac
tail -c +$((start + 1)) "$img" | head -c "$len" | $unpack >vmlinux.tmp 2>/dev/null || true
od -A n -t x1 -N 4 vmlinux.tmp | grep -q '7f 45 4c 46' || {
	echo "guest-kernel.sh: $img did not unpack to an ELF vmlinux" >&2
	exit 1
}
mv vmlinux.tmp vmlinux

# Module dependencies come from each module's .modinfo "depends=" (the
# package ships no modules.dep: depmod runs at install).
mods=$(find "root/lib/modules/$release" -name '*.ko' -o -name '*.ko.xz')
path_of() { printf '%s\n' "$mods" | grep -E "/$1\.ko(\.xz)?\$" | head -n 1; }
deps_of() {
	f=$(path_of "$1")
	[ -n "$f" ] || { echo "guest-kernel.sh: no module $1 in $pkg" >&2; exit 1; }
	case $f in *.xz) xz -dc "$f" >mod.tmp ;; *) cp "$f" mod.tmp ;; esac
	objcopy -O binary --only-section=.modinfo mod.tmp modinfo.tmp
	tr '\0' '\n' <modinfo.tmp | sed -n 's/^depends=//p' | tr ',' ' '
}
: >modules.list
want() {
	grep -qx "$(path_of "$1")" modules.list && return 0
	for d in $(deps_of "$1"); do want "$d"; done
	path_of "$1" >>modules.list
}
for m in "$@"; do want "$m"; done
rm -rf mod.tmp modinfo.tmp modules
mkdir modules
while read -r f; do
	cp "$f" modules/
	echo "$PWD/modules/$(basename "$f")"
done <modules.list >modules.tmp
mv modules.tmp modules.list
rm -rf root
