#!/usr/bin/env bash
# The demo VM: builds Flint, an initramfs with its dracut module, and a
# Flatcar-shaped disk image (a Debian /usr partition with Node and Flint in
# it, from where the initramfs runs Flint), then boots it in QEMU with the
# serial console on this terminal and the config passed through fw_cfg.
#
# usage: scripts/vm.sh [--config FILE] [--check] [--expect TEXT] [--keep-disk]
#   --config FILE  the Ignition config or Butane config (YAML, translated by
#                  Flint in the initramfs; default examples/demo.ign)
#   --check        no login prompt: the machine powers itself off once up, and
#                  the script exits 0 when the console shows the config applied
#                  and no failed unit
#   --expect TEXT  with --check, also require TEXT on the console (by default
#                  whatever the config's enabled units echo)
#   --keep-disk    boot the disk of the last run again (an ordinary boot)
#                  instead of a fresh first-boot disk
# Environment: FLINT_ACCEL=tcg forces the emulator even when /dev/kvm works;
# FLINT_VM_TIMEOUT (seconds, default 900) bounds a --check boot.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

config= check=0 keep=0
expect=()
while (($#)); do
    case $1 in
    --config) config=$2; shift ;;
    --check) check=1 ;;
    --expect) expect+=("$2"); shift ;;
    --keep-disk) keep=1 ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "vm.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
if [[ -z $config ]]; then
    config=$FLINT_REPO/examples/demo.ign
    [[ -e $config ]] || config=$FLINT_REPO/test/e2e/fixtures/demo-fallback.ign
fi
[[ -r $config ]] || { echo "vm.sh: cannot read config $config" >&2; exit 2; }
config=$(readlink -f "$config")

step() { printf '\n==> %s\n' "$*" >&2; }

if [[ $(id -u) != 0 ]]; then
    echo "vm.sh: run as root (it uses loop devices to build the disk image)" >&2
    exit 2
fi
flint_ensure_boot_tools
command -v node >/dev/null || { echo "vm.sh: node is not installed" >&2; exit 2; }

cd "$FLINT_REPO"
if [[ ! -d node_modules ]]; then
    step "npm ci"
    npm ci --no-audit --no-fund >&2
fi
step "building dist/flint.js"
node build.mjs >&2
# A config Flint would reject fails here, with its line and column, not in the VM.
node dist/flint.js validate "$config" >&2 || { echo "vm.sh: $config is not a valid config" >&2; exit 2; }
mkdir -p "$FLINT_CACHE"

sum=$("$FLINT_REPO/scripts/lib/inputs-sum.sh" dist/flint.js)
initrd=$FLINT_CACHE/initramfs-flint.img
if [[ ! -s $initrd || $(cat "$initrd.sum" 2>/dev/null) != "$sum" ]]; then
    step "building the initramfs (dracut --add flint: Flint's units, Node and Flint from /usr; about a minute)"
    FLINT_BUNDLE=$FLINT_REPO/dist/flint.js "$FLINT_REPO/scripts/build-initramfs.sh" "$initrd"
    echo "$sum" >"$initrd.sum"
fi

pristine=$FLINT_CACHE/disk-pristine.img
step "the disk image (Flatcar's partitions; /usr with Node and Flint; rebuilt only when its inputs change)"
FLINT_BUNDLE=$FLINT_REPO/dist/flint.js "$FLINT_REPO/scripts/build-image.sh" "$pristine"
disk=$FLINT_CACHE/vm-disk.img
append="flatcar.oem.id=qemu"
if [[ $keep == 1 && -s $disk ]]; then
    step "booting the disk of the last run again (no first-boot flag)"
else
    cp --sparse=always "$pristine" "$disk"
    # What GRUB appends on a pristine Flatcar image.
    append+=" flatcar.first_boot=detected flatcar.randomize_guid=00000000-0000-0000-0000-000000000001"
fi

if [[ $check == 0 ]]; then
    step "booting (config $config); quit QEMU with Ctrl-a x"
    exec "$FLINT_REPO/scripts/lib/qemu-boot.sh" --interactive --disk "$disk" --initrd "$initrd" \
        --config "$config" --append "$append"
fi

if ((${#expect[@]} == 0)); then
    mapfile -t expect < <(node dist/flint.js translate "$config" 2>/dev/null | node "$FLINT_REPO/scripts/lib/expected-greetings.mjs" /dev/stdin)
fi
log=$FLINT_CACHE/vm-console.log
step "booting non-interactively (config $config, console log $log)"
status=0
"$FLINT_REPO/scripts/lib/qemu-boot.sh" --disk "$disk" --initrd "$initrd" --config "$config" \
    --append "$append flint.test.poweroff rd.shell=0 rd.emergency=poweroff" \
    --timeout "${FLINT_VM_TIMEOUT:-900}" --log "$log" || status=$?

console=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
fail() { echo "vm.sh --check: FAILED: $*" >&2; exit 1; }
((status != 124)) || fail "the boot did not finish within ${FLINT_VM_TIMEOUT:-900} s"
grep -q 'Flint failed in stage' <<<"$console" && fail "a Flint stage failed (see the box in $log)"
grep -q 'flint-test: multi-user.target reached' <<<"$console" || fail "the real root never reached multi-user.target (see $log)"
# A unit that failed on the way (systemd's red status line), in the
# initramfs or the real root, is a defect of the image or of Flint.
if failed=$(grep -m3 '\[FAILED\]' <<<"$console"); then
    fail "the console shows a failed unit (see $log):"$'\n'"$failed"
fi
for text in "${expect[@]}"; do
    grep -qF -- "$text" <<<"$console" || fail "the console never showed \"$text\" (see $log)"
done
echo "vm.sh --check: OK: provisioned, switched root, reached multi-user.target${expect:+, saw: ${expect[*]}}" >&2
