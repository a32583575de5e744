#!/usr/bin/env bash
# The cloud lab for people: boots the demo image's first boot on a fake cloud,
# with the serial console on this terminal. The lab is a network namespace of
# its own (bridge, tap, dnsmasq for DHCP and DNS) where the cloud's fake
# metadata services answer at their real addresses and names, and QEMU shows
# the guest the cloud's SMBIOS strings and media. Everything is removed on
# exit, also after a failure or a signal.
#
# usage: scripts/lab.sh --platform ID [--config FILE] [--check] [--scenario NAME]
#                       [--hostname NAME] [--ssh-key KEY] [--no-dhcp] [--object URL=FILE]...
#   --platform ID   metal (the config fetched by host name from
#                   http://config.example.test:8080/boot.ign), aws, gcp,
#                   azure, digitalocean, openstack, packet, hetzner, vultr
#   --config FILE   the config, served as the cloud's user data (default
#                   examples/demo.ign)
#   --check         no keyboard: the machine powers itself off once up, and
#                   the script exits 0 when the boot provisioned and switched root
#   --scenario NAME a cloud's variation (test/lab/fakes/), e.g. azure
#                   imds-404-twice or ovf-only, openstack drive-only
#   --no-dhcp       no DHCP server: the guest has link-local addresses only
#   --object URL=FILE  FILE in the cloud's storage service at URL, e.g. aws
#                   s3://flint-lab-west/boot.ign, gcp gs://flint-lab-gcs/boot.ign,
#                   azure https://flintlab.blob.core.windows.net/configs/boot.ign
#                   (the buckets: test/lab/fakes/s3.ts, gcs.ts, azure-blob.ts)
# Run as root (namespaces, taps, loop devices). Quit QEMU with Ctrl-a x.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

for arg in "$@"; do
    case $arg in
    -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    esac
done
if [[ $(id -u) != 0 ]]; then
    echo "lab.sh: run as root (it makes a network namespace, a tap and loop devices)" >&2
    exit 2
fi
flint_ensure_boot_tools
flint_ensure_tools dnsmasq:dnsmasq-base ip:iproute2 genisoimage:genisoimage
command -v node >/dev/null || { echo "lab.sh: node is not installed" >&2; exit 2; }

cd "$FLINT_REPO"
if [[ ! -d node_modules ]]; then
    echo "==> npm ci" >&2
    npm ci --no-audit --no-fund >&2
fi
# run-lab.ts removes the lab itself; this is the net under it, should Node be
# killed outright: any namespace it made is named after its pid.
# (A background job's stdin would be /dev/null: hand it the terminal's.)
exec 3<&0
node --import tsx test/lab/run-lab.ts "$@" <&3 &
child=$!
cleanup() {
    local ns
    for ns in $(ip netns list | awk '{print $1}' | grep "^flint-lab-$child-" || :); do
        "$FLINT_REPO/scripts/lib/lab-net.sh" down "$ns" /tmp/flint-lab-leftover 2>/dev/null || :
    done
}
trap cleanup EXIT
trap 'kill -TERM "$child" 2>/dev/null || :' INT TERM HUP
status=0
wait "$child" || status=$?
# A signal interrupts the first wait; wait again for run-lab.ts to tidy up.
if kill -0 "$child" 2>/dev/null; then wait "$child" || status=$?; fi
exit "$status"
