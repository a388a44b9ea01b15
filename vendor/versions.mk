# Pinned third-party sources: Debian source packages, fetched with
# `apt-get source --download-only --tar-only` and checked by sha256 before use.
# Nothing here is vendored: the build downloads, verifies and builds them.

LIBBPF_PKG      := libbpf=1.5.0-3
LIBBPF_TAR      := libbpf_1.5.0.orig.tar.gz
LIBBPF_SHA256   := 53492aff6dd47e4da04ef5e672d753b9743848bdb38e9d90eafbe190b7983c44
LIBBPF_DIR      := libbpf-1.5.0

ELFUTILS_PKG    := elfutils=0.192-4
ELFUTILS_TAR    := elfutils_0.192.orig.tar.bz2
ELFUTILS_SHA256 := 616099beae24aba11f9b63d86ca6cc8d566d968b802391334c91df54eab416b4
ELFUTILS_DIR    := elfutils-0.192

ZLIB_PKG        := zlib=1:1.3.dfsg+really1.3.1-1
ZLIB_TAR        := zlib_1.3.dfsg+really1.3.1.orig.tar.gz
ZLIB_SHA256     := 60dd315c07f616887caa029408308a018ace66e3d142726a97db164b3b8f69fb
ZLIB_DIR        := zlib-1.3.1

JSMN_PKG        := jsmn=1.1.0-2
JSMN_TAR        := jsmn_1.1.0.orig.tar.gz
JSMN_SHA256     := 5f0913a10657fe7ec8d5794ccf00a01000e3e1f2f1e1f143c34a0f7b47edcb38
JSMN_DIR        := jsmn-1.1.0
