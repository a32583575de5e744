#!/bin/bash
# dracut module "flint-demo-root", the demo image's own part of the
# initramfs (scripts/build-initramfs.sh adds it; it is not Flint): on every
# boot, demo-setup-root.service gives a ROOT that has none the top-level
# links into /usr and the image's /etc, as Flatcar's initrd-setup-root does
# with its tmpfiles and /usr/share/flatcar/etc. That is what lets a config
# reformat ROOT (root reprovisioning) and still boot.

check() {
    return 255
}

depends() {
    echo systemd
}

install() {
    inst_multiple cp ln mkdir chmod
    inst_script "$moddir/demo-setup-root.sh" /usr/lib/flint-demo/demo-setup-root
    inst_simple "$moddir/demo-setup-root.service" "$systemdsystemunitdir/demo-setup-root.service"
    mkdir -p "$initdir/$systemdsystemunitdir/initrd.target.wants"
    ln -sfn ../demo-setup-root.service "$initdir/$systemdsystemunitdir/initrd.target.wants/demo-setup-root.service"
}
