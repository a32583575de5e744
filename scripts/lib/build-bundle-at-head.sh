#!/usr/bin/env bash
# Builds dist/flint.js from the last commit rather than the working tree, so
# that the boot tests see a consistent snapshot while others edit files.
#
# usage: build-bundle-at-head.sh OUT.js
set -euo pipefail
source "$(dirname "$0")/common.sh"

out=${1:?usage: build-bundle-at-head.sh OUT.js}
work=$(mktemp -d /tmp/flint-head.XXXXXX)
trap 'rm -rf "$work"' EXIT
git -C "$FLINT_REPO" archive HEAD | tar -x -C "$work"
ln -s "$FLINT_REPO/node_modules" "$work/node_modules"
(cd "$work" && node build.mjs >/dev/null)
mkdir -p "$(dirname "$out")"
cp "$work/dist/flint.js" "$out.tmp"
mv "$out.tmp" "$out"
