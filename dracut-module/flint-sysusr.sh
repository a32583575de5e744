#!/bin/sh
# /usr/bin/flint in an initramfs built in sysusr mode (the default, see
# module-setup.sh): Node and Flint are the /usr partition's, which systemd
# mounts at /sysusr/usr for mount.usr= before the agent starts
# (flint-agent.service.d/10-flint-sysusr.conf). The tools the stages call
# come from there too: /usr/lib/flint/sysusr, first on PATH, has a link for
# each to flint-sysusr-exec.
usr=${FLINT_SYSUSR:-/sysusr/usr}
if [ ! -r "$usr/lib/flint/flint.js" ]; then
    echo "flint[error]: no $usr/lib/flint/flint.js: the kernel command line needs mount.usr= naming a /usr partition with Flint installed in it (scripts/install-root.sh)" >&2
    exit 1
fi
case " $* " in
*" agent "*) echo "flint: running $usr/bin/node $usr/lib/flint/flint.js (Node and Flint from the /usr partition)" >&2 ;;
esac
PATH=/usr/lib/flint/sysusr:$PATH
export PATH
exec /usr/lib/flint/sysusr/node "$usr/lib/flint/flint.js" "$@"
