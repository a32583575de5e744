#!/bin/sh
# demo-setup-root: makes /sysroot a root the demo image boots, whatever a
# first boot's config did to ROOT. The image's ROOT holds /etc, /var and the
# like, and no /usr (the usr partition is bind-mounted there); a ROOT that a
# config reformatted is empty. It gets the merged-usr links (/bin -> usr/bin…),
# the usual top-level directories, and, when it has no /etc, a copy of the
# image's (/usr/share/factory/etc, put there by scripts/build-image.sh).
# Nothing that exists is changed.
set -eu
root=/sysroot
factory=$root/usr/share/factory/etc

for dir in bin sbin lib lib64; do
    [ -e "$root/$dir" ] || [ -L "$root/$dir" ] || ln -s "usr/$dir" "$root/$dir"
done
for dir in boot dev home media mnt opt proc root run srv sys tmp var var/tmp; do
    [ -d "$root/$dir" ] && continue
    mkdir -p "$root/$dir"
    case $dir in
    tmp | var/tmp) chmod 1777 "$root/$dir" ;;
    root) chmod 0700 "$root/$dir" ;;
    esac
done
if [ ! -e "$root/etc" ] && [ -d "$factory" ]; then
    echo "demo-setup-root: ROOT has no /etc: copying the image's from /usr/share/factory/etc"
    cp -a "$factory" "$root/etc"
fi
