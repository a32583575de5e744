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
# Starts the agent's last line for a request: the stage's exit status.
mark='@flint-agent exit '

# The stage: the first argument that is neither an option nor an option's value.
stage=
value_of=
for arg; do
    case $arg in
    *'	'* | *'
'*)
        echo "flint-client: an argument holds a tab or a newline" >&2
        exit 2 ;;
    esac
    if [ -n "$value_of" ]; then
        value_of=
        continue
    fi
    case $arg in
    --log-level | --log-format) value_of=$arg ;;
    -*) ;;
    *) [ -n "$stage" ] || stage=$arg ;;
    esac
done

if [ ! -p "$requests" ]; then
    echo "flint[error]: no Flint agent (no $requests): see journalctl -u flint-agent.service"
    exit 1
fi

# The agent unit makes each stage's reply FIFO ahead, in one mkfifo: under
# emulation every program a client runs costs a noticeable fraction of a
# second. Stages run one at a time, so each stage's FIFO has one user.
case $stage in
'' | *[!a-z0-9-]*) reply=$dir/reply.other ;;
*) reply=$dir/reply.$stage ;;
esac
if [ ! -p "$reply" ]; then
    mkfifo -m 0600 "$reply" || exit 1
fi

request=$reply
for arg; do request="$request	$arg"; done
# One write, shorter than PIPE_BUF: requests from several clients never mix.
printf '%s\n' "$request" >"$requests" || exit 1

status=
while IFS= read -r line; do
    case $line in
    "$mark"*) status=${line#"$mark"} ;;
    *) printf '%s\n' "$line" ;;
    esac
done <"$reply"

if [ -z "$status" ]; then
    echo "flint[error]: the Flint agent ended during stage ${stage:-?} before it finished: see journalctl -u flint-agent.service"
    exit 1
fi
exit "$status"
