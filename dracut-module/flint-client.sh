#!/bin/sh
# flint-client COMMAND [ARGS]...: what each Flint stage unit runs in the
# initramfs. It hands its command line to the one `flint agent` of this boot
# (agent/commands/agent.ts), prints the stage's log lines as they come (so
# the journal and the console show them under this unit), and exits with the
# stage's status. Plain shell: a stage costs no Node start-up of its own.
#
# FLINT_AGENT_DIR (default /run/flint/agent) is for tests.

set -u
dir=${FLINT_AGENT_DIR:-/run/flint/agent}
requests=$dir/requests
mark=$(printf '\036')

stage=
for arg; do
    case $arg in
    *'	'* | *'
'*)
        echo "flint-client: an argument holds a tab or a newline" >&2
        exit 2 ;;
    -*) ;;
    *) [ -n "$stage" ] || stage=$arg ;;
    esac
done

if [ ! -p "$requests" ]; then
    echo "flint[error]: no Flint agent (no $requests): see journalctl -u flint-agent.service"
    exit 1
fi

reply=$dir/reply.$$
rm -f "$reply"
mkfifo -m 0600 "$reply" || exit 1
trap 'rm -f "$reply"' EXIT
trap 'exit 143' TERM INT

request=$reply
for arg; do request="$request	$arg"; done
# One write, shorter than PIPE_BUF: requests from several clients never mix.
printf '%s\n' "$request" >"$requests" || exit 1

status=
while IFS= read -r line; do
    case $line in
    "${mark}exit "*) status=${line#"${mark}exit "} ;;
    *) printf '%s\n' "$line" ;;
    esac
done <"$reply"

if [ -z "$status" ]; then
    echo "flint[error]: the Flint agent ended during stage ${stage:-?} before it finished: see journalctl -u flint-agent.service"
    exit 1
fi
exit "$status"
