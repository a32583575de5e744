#!/bin/sh
# /usr/bin/flint in the initramfs: the bundle run by the Node the module copied.
exec /usr/bin/node /usr/lib/flint/flint.js "$@"
