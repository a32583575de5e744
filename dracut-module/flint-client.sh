#!/bin/sh
# flint-client COMMAND [ARGS]...: what each Flint stage unit runs in the
# initramfs. It hands its command line to the one `flint agent` of this boot
# (agent/commands/agent.ts has the protocol), copies the stage's log lines to
# its output (the journal) as they come, and exits with the stage's status,
# which it reads from a file of the agent's, never from the log.
# Its own failures go to stderr, which the units send to the console too.
#
# flint-client --agent-gone: run by the agent's unit once the agent has
# ended (ExecStopPost), however it ended; wakes every client still waiting
# for its reply to be opened, so that it fails now instead of at its unit's
# start timeout.
#
# FLINT_AGENT_DIR (default /run/flint/agent) and FLINT_FAILURE_FILE (default
# /run/flint/failure) are for tests.

set -u
dir=${FLINT_AGENT_DIR:-/run/flint/agent}

if [ "${1:-}" = --agent-gone ]; then
    # No new client finds the agent; each waiting one sees its reply end without a status.
    [ -d "$dir" ] || exit 0
    # Opening the requests FIFO wakes a client waiting to open it; its write
    # then fails, or its check that the FIFO is still there does.
    if [ -p "$dir/requests" ]; then
        { rm -f "$dir/requests"; } 4<>"$dir/requests"
    fi
    for out in "$dir"/*.out; do
        if [ -p "$out" ]; then : 1<>"$out"; fi
    done
    exit 0
fi

# The stage: the first argument that is neither an option nor an option's value.
stage=
value_of=
for arg; do
    case $arg in
    *'
'*)
        echo "flint[error]: flint-client: an argument holds a newline" >&2
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

# FAILURE: the one-line reason a cloud's check-in reports (flint-checkin-failed);
# a stage that failed by itself has written its own there already.
failure=${FLINT_FAILURE_FILE:-/run/flint/failure}
record() {
    [ -e "$failure" ] || printf 'Flint failed in stage %s: %s\n' "${stage:-?}" "$*" >"$failure" 2>/dev/null || :
}

fail() {
    echo "flint[error]: stage ${stage:-?}: $* (see journalctl -u flint-agent.service)" >&2
    record "$*"
    exit 1
}

[ -p "$dir/requests" ] || fail "no Flint agent is running (no $dir/requests)"

# This client's own FIFOs, named by its pid: no other live client has them.
# (Leftovers of a killed client whose pid came round again are replaced.)
req=$dir/$$
if ! mkfifo -m 0600 "$req.in" "$req.out" 2>/dev/null; then
    rm -f "$req.in" "$req.out" "$req.status"
    mkfifo -m 0600 "$req.in" "$req.out" || fail "cannot make its FIFOs in $dir"
fi
# Held open (read and write, so opening never waits) for as long as this
# client lives: when it ends, killed or not, the agent cancels the stage.
exec 3<>"$req.in"
# The request: the number of arguments, then one per line. It is in the
# FIFO before the agent hears of it.
printf '%s\n' "$#" "$@" >&3 || fail "cannot write its request"
# One short write (under PIPE_BUF), so requests of several clients never mix.
# Opening waits for the agent to read the FIFO (it may still be starting).
# A write that finds no reader fails here instead of killing the shell.
trap '' PIPE
printf '%s\n' "$$" >"$dir/requests" || fail "cannot reach the Flint agent"
[ -p "$dir/requests" ] || fail "the Flint agent ended before it took the request"

# The reply, relayed unread; cat copies it in large reads, the shell's read
# would take it a byte at a time. Ends when the agent closes it (answered)
# or ends (died, killed, or woken by --agent-gone).
cat <"$req.out" 3>&- || fail "cannot read the reply from the Flint agent"

status=
reason=
{ read -r status && read -r reason; } 2>/dev/null <"$req.status"
case $status in
'') fail "the Flint agent ended during stage ${stage:-?} before it finished" ;;
*[!0-9]* | ????*) fail "the Flint agent's answer is not a status ($status)" ;;
esac
if [ -n "$reason" ]; then
    echo "flint[error]: stage ${stage:-?}: $reason" >&2
    record "$reason"
fi
exit "$status"
