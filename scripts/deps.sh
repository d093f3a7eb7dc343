#!/bin/sh
# Install everything fairkey needs to build, test and benchmark on Debian 12.
# Run as root (or through sudo).  Why each library: docs/dependencies.md.
# postgresql: the server the tests of the log's PostgreSQL backend start as a
# private cluster of their own (libpq-dev is what fairkey links).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
    build-essential cmake pkg-config clang libclang-rt-14-dev \
    libssl-dev libsodium-dev libsqlite3-dev libpq-dev postgresql \
    libcurl4-openssl-dev libjansson-dev libcmocka-dev \
    zlib1g-dev age openssh-client time ca-certificates curl sqlite3 util-linux python3 python3-cryptography man-db
# nginx: the svc_tls test runs Debian's nginx as a private instance in front
# of the daemons (docs/operations.md section 5).  Where systemd runs, Debian
# starts the package's own nginx on port 80 when it installs it; the test
# neither needs nor touches that one, so an nginx this script installed is
# stopped and disabled again (one that was already installed is left alone).
had_nginx=$(dpkg-query -W -f='${Status}' nginx 2>/dev/null || true)
apt-get install -y --no-install-recommends nginx
if [ "$had_nginx" != "install ok installed" ] && [ -d /run/systemd/system ]; then
    systemctl disable --now nginx || true
fi
# Chromium: the transparency page test (web_page) runs the page in Debian's
# headless Chromium (docs/dependencies.md).
apt-get install -y --no-install-recommends chromium
# node and npm: the typage interop test installs age-encryption from npm into
# the build tree.  A machine that already has them (any version >= 18) keeps
# its own; otherwise Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt-get install -y --no-install-recommends nodejs npm
fi
