#!/bin/sh
# /usr/lib/flint/flint-sysusr-exec, in sysusr mode: each link to it in
# /usr/lib/flint/sysusr/ (node, sgdisk, mkfs.ext4, useradd…) runs the /usr
# partition's program of that name with the partition's own dynamic loader
# and libraries, so nothing of the initramfs's glibc mixes in. A program the
# partition lacks is run from the initramfs if it has one.
name=${0##*/}
usr=${FLINT_SYSUSR:-/sysusr/usr}
self_dir=${0%/*}

# The partition's loader: a file, or a link relative to its directory
# (an absolute link would resolve into the initramfs).
loader=
for candidate in "$usr"/lib/*-linux-gnu*/ld-linux*.so.* "$usr"/lib64/ld-linux*.so.* "$usr"/lib/ld-linux*.so.*; do
    if [ -L "$candidate" ]; then
        case $(readlink "$candidate") in
        /*) continue ;;
        esac
    fi
    if [ -f "$candidate" ]; then
        loader=$candidate
        break
    fi
done

for dir in "$usr/sbin" "$usr/bin"; do
    if [ -n "$loader" ] && [ -f "$dir/$name" ] && [ -x "$dir/$name" ]; then
        libs=${loader%/*}
        # glibc's code page modules (mtools converts names through IBM850).
        [ -d "$libs/gconv" ] && GCONV_PATH=$libs/gconv && export GCONV_PATH
        exec "$loader" --library-path "$libs:$usr/lib64:$usr/lib" --argv0 "$name" "$dir/$name" "$@"
    fi
done

IFS=:
for dir in $PATH; do
    [ "$dir" = "$self_dir" ] && continue
    if [ -x "$dir/$name" ]; then
        exec "$dir/$name" "$@"
    fi
done
echo "$name: not found in $usr (the /usr partition) nor in the initramfs" >&2
exit 127
