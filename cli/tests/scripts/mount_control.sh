#!/usr/bin/env bash
# Drives `crashproof mount` the way a Jepsen-style harness would: start it,
# write through the mount, ask the control socket what is unsynced, crash,
# check what survived, send garbage, quit; then start it again and stop it
# with SIGTERM. Every check failing prints why and exits 1. Python 3 is the
# socket client (no socat needed). Usage: mount_control.sh CRASHPROOF WORKDIR
set -euo pipefail
crashproof="$1"
work="$2"
mnt="$work/mnt"
ctl="$work/ctl"
mkdir -p "$mnt" "$ctl"
chmod 700 "$ctl"
sock="$ctl/control.sock"

fail() { echo "FAILED: $*" >&2; exit 1; }

# One command; prints every line of the answer (the last is ok/error).
ask() {
    python3 - "$sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
for line in s.makefile("rb"):
    line = line.decode().rstrip("\n")
    print(line)
    if line.startswith(("ok", "error")):
        break
PY
}

# Starts the mount, reads its ready line from a FIFO (bounded wait).
start() {
    rm -f "$work/ready"
    mkfifo "$work/ready"
    "$crashproof" mount "$mnt" --control "$sock" --model drop-unsynced --seed 0 \
        > "$work/ready" 2> "$work/mount.err" &
    pid=$!
    exec 3< "$work/ready"
    read -r -t 30 ready <&3 || fail "the mount did not say it was ready: $(cat "$work/mount.err")"
    exec 3<&-
    case "$ready" in *"control socket $sock"*) ;; *) fail "unexpected ready line: $ready" ;; esac
}

mounted() { grep -q " $mnt " /proc/self/mountinfo; }

start
trap 'kill "$pid" 2>/dev/null || true' EXIT
mounted || fail "not mounted after the ready line"
[ "$(stat -c %a "$sock")" = 600 ] || fail "the control socket is not mode 0600"

# a is durable (file fsynced, directory fsynced); b is not.
printf durable > "$mnt/a"
python3 -c "
import os, sys
d = sys.argv[1]
fd = os.open(os.path.join(d, 'a'), os.O_RDONLY); os.fsync(fd); os.close(fd)
fd = os.open(d, os.O_RDONLY); os.fsync(fd); os.close(fd)" "$mnt"
printf lost > "$mnt/b"

unsynced="$(ask unsynced)"
echo "$unsynced" | grep -q "entry / + b" || fail "unsynced does not list b's entry: $unsynced"
echo "$unsynced" | grep -q "data /b bytes 0..4" || fail "unsynced does not list b's bytes: $unsynced"
echo "$unsynced" | grep -q " /a" && fail "unsynced lists the synced a: $unsynced"
[ "$(echo "$unsynced" | tail -n 1)" = "ok 2 unsynced operations" ] || fail "unsynced: $unsynced"

steps="$(ask steps)"
case "$steps" in "ok steps "*" generation 0") ;; *) fail "steps: $steps" ;; esac

# Garbage gets an error line and the mount keeps serving.
case "$(ask frobnicate)" in "error unknown command"*) ;; *) fail "a bad command was not refused" ;; esac
case "$(ask "crash soon")" in "error"*) ;; *) fail "a bad seed was not refused" ;; esac
long="$(python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1])
s.sendall(b"x" * 5000)
print(s.makefile("rb").readline().decode().strip())
PY
)"
case "$long" in "error line longer than 1024 bytes"*) ;; *) fail "an oversized line: $long" ;; esac
[ "$(cat "$mnt/a")" = durable ] || fail "the mount stopped serving after bad commands"

# A descriptor open across the crash sees EIO; then the post-crash state.
exec 4< "$mnt/b"
crash="$(ask "crash 7")"
case "$crash" in "ok crashed after "*"seed 7"*) ;; *) fail "crash: $crash" ;; esac
if cat <&4 > /dev/null 2>&1; then fail "a descriptor from before the crash still reads"; fi
exec 4<&-
[ "$(cat "$mnt/a")" = durable ] || fail "the synced file did not survive the crash"
[ ! -e "$mnt/b" ] || fail "the unsynced file survived a drop-unsynced crash"
case "$(ask steps)" in "ok steps "*" generation 1") ;; *) fail "steps after the crash" ;; esac

[ "$(ask quit)" = "ok quitting" ] || fail "quit was not acknowledged"
wait "$pid" || fail "the mount exited with an error: $(cat "$work/mount.err")"
trap - EXIT
mounted && fail "the mount is still there after quit"
[ -e "$sock" ] && fail "the control socket is still there after quit"

# SIGTERM removes the mount too.
start
trap 'kill "$pid" 2>/dev/null || true' EXIT
mounted || fail "not mounted the second time"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
trap - EXIT
[ "$status" = 143 ] || fail "SIGTERM: exit status $status, expected 143"
mounted && fail "the mount is still there after SIGTERM"

echo "mount control: all checks passed"
