#!/usr/bin/env bash
# Boots the Debian kernel with a Flint initramfs and a disk image in QEMU, the
# serial console on stdout (and in --log FILE). Used by vm.sh and the boot tests.
#
# usage: qemu-boot.sh --disk IMG --initrd IMG [--config FILE] [--append ARGS]
#          [--extra-disk IMG]... [--smbios SPEC]... [--qemu ARG]... [--tap IFNAME]
#          [--kver KVER] [--timeout SECONDS] [--log FILE] [--interactive]
#   Without --interactive the guest has no keyboard, never reboots, and is
#   killed after --timeout seconds (exit status 124).
#   --kver KVER   the kernel the initramfs was built for (default: the newest
#                 installed, which changes when a kernel is installed meanwhile)
#   --tap IFNAME  the NIC on that (existing) tap device instead of QEMU's user
#                 network: the lab runs this script inside its namespace.
#   --smbios SPEC one -smbios argument (e.g. type=1,manufacturer=Amazon EC2).
#   --qemu ARG    one more QEMU argument as it is (media: -drive …).
set -euo pipefail
source "$(dirname "$0")/common.sh"

disk= initrd= config= append= timeout=600 logfile= interactive=0 tap= kver=
extra=()
nic=(-nic user,model=virtio-net-pci)
while (($#)); do
    case $1 in
    --disk) disk=$2; shift ;;
    --initrd) initrd=$2; shift ;;
    --config) config=$2; shift ;;
    --append) append=$2; shift ;;
    --extra-disk) extra+=(-drive "file=$2,if=virtio,format=raw"); shift ;;
    --qemu) extra+=("$2"); shift ;;
    --smbios) extra+=(-smbios "$2"); shift ;;
    --tap) tap=$2; shift ;;
    --kver) kver=$2; shift ;;
    --timeout) timeout=$2; shift ;;
    --log) logfile=$2; shift ;;
    --interactive) interactive=1 ;;
    *) echo "qemu-boot.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[[ -n $disk && -n $initrd ]] || { echo "qemu-boot.sh: --disk and --initrd are required" >&2; exit 2; }
if [[ -n $tap ]]; then
    nic=(-netdev "tap,id=net0,ifname=$tap,script=no,downscript=no" -device virtio-net-pci,netdev=net0)
fi
kver=${kver:-$(flint_kver)}

accel=(-accel tcg)
# KVM only when it really runs a guest: on some hosts /dev/kvm opens but
# guests hang or QEMU aborts. The probe boots the kernel with no root, which
# panics (and powers off, panic=-1 -no-reboot) within a second or two under KVM.
# FLINT_ACCEL=tcg skips the probe; FLINT_ACCEL=kvm skips it the other way.
kvm_works() {
    [[ -w /dev/kvm ]] || return 1
    timeout 15 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nographic -no-reboot \
        -kernel "/boot/vmlinuz-$kver" -append "console=ttyS0 panic=-1 root=/dev/flint-none" </dev/null 2>/dev/null |
        grep -q -m1 'Kernel panic'
}
case ${FLINT_ACCEL:-auto} in
kvm) accel=(-accel kvm -cpu host) ;;
tcg) ;;
*)
    if kvm_works; then
        accel=(-accel kvm -cpu host)
    else
        echo "qemu-boot.sh: KVM does not run guests here; using TCG (slower)" >&2
    fi ;;
esac

# What Flatcar's GRUB passes besides its own arguments: ROOT read-write, and
# the usr partition (scripts/build-image.sh) for systemd-fstab-generator,
# which mounts it read-only at /sysusr/usr and binds it to /sysroot/usr.
usr_args="mount.usr=PARTUUID=7130c94a-213a-4e5a-8e26-6cce9662f132 mount.usrfstype=squashfs mount.usrflags=ro"
# no_timer_check: on a busy host, TCG runs the kernel's early IO-APIC timer
# check too slowly and it panics ("IO-APIC + timer doesn't work").
args=("${accel[@]}" -m 1536 -smp 2 -nographic -no-reboot
    -kernel "/boot/vmlinuz-$kver" -initrd "$initrd"
    -drive "file=$disk,if=virtio,format=raw" "${extra[@]}"
    "${nic[@]}"
    -append "console=ttyS0 root=LABEL=ROOT rw $usr_args panic=-1 no_timer_check systemd.show_status=1 printk.time=1 $append")
if [[ -n $config ]]; then
    args+=(-fw_cfg "name=opt/org.flatcar-linux/config,file=$config")
fi

if [[ $interactive == 1 ]]; then
    exec qemu-system-x86_64 "${args[@]}"
fi
if [[ -n $logfile ]]; then
    mkdir -p "$(dirname "$logfile")"
    # Under TCG a guest has been seen (once in some hundred boots, on a busy
    # host) to stop in the kernel's own start-up, before it runs the
    # initramfs, with QEMU spinning until the timeout. Nothing of Flint runs
    # there and the disk is untouched, so such a boot is tried once more:
    # without "Run /init" on the console within FLINT_EARLY_BOOT_LIMIT
    # seconds (120; the kernel gets there in 5–30 s), QEMU is stopped.
    early_limit=${FLINT_EARLY_BOOT_LIMIT:-120}
    for try in 1 2; do
        timeout --kill-after=10 "$timeout" qemu-system-x86_64 "${args[@]}" </dev/null > >(tee "$logfile") &
        qemu=$!
        status=
        for ((waited = 0; ; waited++)); do
            if ! kill -0 "$qemu" 2>/dev/null; then
                wait "$qemu" && status=0 || status=$?
                break
            fi
            grep -q -a 'Run /init as init process' "$logfile" 2>/dev/null && break
            if ((waited >= early_limit)); then
                kill "$qemu" 2>/dev/null || true
                wait "$qemu" 2>/dev/null || true
                status=hung
                break
            fi
            sleep 1
        done
        if [[ -z $status ]]; then
            wait "$qemu" && status=0 || status=$?
        fi
        if [[ $status == hung && $try == 1 ]]; then
            echo "qemu-boot.sh: the guest did not reach /init within ${early_limit} s (a kernel stuck under TCG); booting it again" >&2
            continue
        fi
        [[ $status == hung ]] && status=124
        exit "$status"
    done
fi
exec timeout --kill-after=10 "$timeout" qemu-system-x86_64 "${args[@]}" </dev/null
