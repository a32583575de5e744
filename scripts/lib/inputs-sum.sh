#!/usr/bin/env bash
# Prints one checksum over the files an initramfs is built from, so that a
# cached initramfs is rebuilt exactly when one of them changed.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bundle=${1:?usage: inputs-sum.sh BUNDLE}
{
    # Not the code cache: it is made from these by the node below, and differs from build to build.
    sha256sum "$bundle" "$(dirname "$bundle")/flint-core.js" "$(dirname "$bundle")/flint-yaml.js" "$(dirname "$bundle")/flint-sysinfo.js"
    (cd "$FLINT_REPO" && sha256sum scripts/build-initramfs.sh scripts/lib/demo-root/* dracut-module/* units/flint-generator units/flint-resolv units/*.path units/*.service units/*.target units/*.network)
    flint_kver
    readlink -f "$(command -v node)"
} | sed 's#  .*/#  #' | sha256sum | cut -d' ' -f1
