#!/bin/sh
# fetch.sh DESTDIR PKG=VERSION TARBALL SHA256
# Downloads one Debian source tarball (the upstream .orig only) and verifies
# it. A tarball already present with the right checksum is not fetched again.
set -eu
dest=$1 pkg=$2 tar=$3 sum=$4
mkdir -p "$dest"
cd "$dest"
if [ -f "$tar" ] && echo "$sum  $tar" | sha256sum -c --status; then
	exit 0
fi
rm -f "$tar"
# _apt cannot write into root-owned build dirs; fetching as root is expected.
apt-get source -qq --download-only --tar-only "$pkg" >/dev/null 2>apt-source.log || {
	cat apt-source.log >&2
	echo "fetch.sh: apt-get source $pkg failed (are the deb-src entries in place? run 'make deps')" >&2
	exit 1
}
if ! echo "$sum  $tar" | sha256sum -c --status; then
	echo "fetch.sh: $tar does not match the pinned sha256 $sum" >&2
	rm -f "$tar"
	exit 1
fi
