#!/usr/bin/env bash
# The lab's network: a network namespace of its own with a bridge, a tap for
# QEMU on that bridge, and dnsmasq for DHCP and DNS. Nothing in it reaches the
# host's network: the guest, the fake cloud and dnsmasq only see each other.
#
# usage: lab-net.sh up NS STATE_DIR [--no-dhcp] [--host NAME=ADDRESS]...
#        lab-net.sh down NS STATE_DIR
#   up     creates namespace NS: bridge flbr0 (192.0.2.1/24, plus a route to
#          169.254.0.0/16 for guests with only a link-local address), tap
#          fltap0 on it, and dnsmasq answering DNS for the --host names (and
#          DHCP in 192.0.2.100-199 unless --no-dhcp); its log, leases and pid
#          go to STATE_DIR.
#   down   ends every process left in NS (all of them were started in it by
#          the lab), then deletes NS, which takes the bridge and tap with it.
#          Safe to run twice, or on a half-made lab.
set -euo pipefail

LAB_BRIDGE=flbr0
LAB_TAP=fltap0
LAB_ADDRESS=192.0.2.1

command=${1:?usage: lab-net.sh up|down NS STATE_DIR}
ns=${2:?usage: lab-net.sh up|down NS STATE_DIR}
state=${3:?usage: lab-net.sh up|down NS STATE_DIR}
shift 3
case $ns in
flint-lab-*) ;;
*) echo "lab-net.sh: the namespace name must start with flint-lab- (got $ns)" >&2; exit 2 ;;
esac

down() {
    if ip netns list | grep -qw -- "$ns"; then
        local pids pid
        pids=$(ip netns pids "$ns" 2>/dev/null || :)
        for pid in $pids; do kill -TERM "$pid" 2>/dev/null || :; done
        for _ in $(seq 50); do
            [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break
            sleep 0.1
        done
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || :; done
        ip netns del "$ns"
    fi
}

up() {
    local dhcp=1 hosts=()
    while (($#)); do
        case $1 in
        --no-dhcp) dhcp=0 ;;
        --host) hosts+=("$2"); shift ;;
        *) echo "lab-net.sh: unknown argument $1" >&2; exit 2 ;;
        esac
        shift
    done
    mkdir -p "$state"
    # A half-made lab is taken down again before the error is reported.
    trap 'down' ERR
    ip netns add "$ns"
    local in=(ip -n "$ns")
    "${in[@]}" link set lo up
    "${in[@]}" link add "$LAB_BRIDGE" type bridge
    "${in[@]}" tuntap add dev "$LAB_TAP" mode tap
    "${in[@]}" link set "$LAB_TAP" master "$LAB_BRIDGE"
    "${in[@]}" link set "$LAB_TAP" up
    "${in[@]}" link set "$LAB_BRIDGE" up
    "${in[@]}" addr add "$LAB_ADDRESS/24" dev "$LAB_BRIDGE"
    "${in[@]}" route add 169.254.0.0/16 dev "$LAB_BRIDGE"

    local args=(--conf-file=/dev/null --no-resolv --no-hosts --no-poll --user=root
        --pid-file="$state/dnsmasq.pid" --log-facility="$state/dnsmasq.log" --log-queries
        --interface="$LAB_BRIDGE" --bind-interfaces --listen-address="$LAB_ADDRESS"
        --domain=lab.test)
    local host
    for host in "${hosts[@]}"; do args+=(--host-record="${host%%=*},${host#*=}"); done
    if [[ $dhcp == 1 ]]; then
        args+=(--dhcp-range=192.0.2.100,192.0.2.199,255.255.255.0,1h --log-dhcp
            --dhcp-leasefile="$state/dnsmasq.leases" --dhcp-authoritative
            --dhcp-option=option:router,"$LAB_ADDRESS" --dhcp-option=option:dns-server,"$LAB_ADDRESS")
    fi
    ip netns exec "$ns" dnsmasq "${args[@]}"
    trap - ERR
}

case $command in
up) up "$@" ;;
down) down ;;
*) echo "lab-net.sh: unknown command $command" >&2; exit 2 ;;
esac
