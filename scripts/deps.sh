#!/bin/sh
# Install the Debian 12 packages nnrepl needs to build and test (only those
# that are missing). Runs apt-get through sudo when not root.
set -eu

BUILD="meson ninja-build gcc pkg-config libopenblas-dev libncurses-dev libreadline-dev zlib1g-dev"
TEST="libcmocka-dev tmux valgrind"

missing=""
for p in $BUILD ${NNREPL_WITH_TEST_DEPS:+$TEST}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
else
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing
