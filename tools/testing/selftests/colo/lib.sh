# SPDX-License-Identifier: GPL-2.0
# Helpers for the COLO in-kernel tests (kselftest conventions: TAP output,
# exit 0 pass, 1 fail, 4 skip). Source it first thing in a test script.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
SELFTESTS="$REPO/tools/testing/selftests/colo"
export REPO SELFTESTS
readonly KSFT_PASS=0 KSFT_FAIL=1 KSFT_SKIP=4

t_number=0
t_failures=0
t_cleanups=()

# t_note TEXT: a TAP diagnostic line on the script's own output (fd 3), so
# that it shows even from inside t_check, which keeps output only on failure.
exec 3>&1
t_note()
{
	echo "# $*" >&3
}

t_ok()
{
	t_number=$((t_number + 1))
	echo "ok $t_number - $1"
}

t_fail()
{
	t_number=$((t_number + 1))
	t_failures=$((t_failures + 1))
	echo "not ok $t_number - $1"
}

t_skip()
{
	t_number=$((t_number + 1))
	echo "ok $t_number - $1 # SKIP $2"
}

# t_check DESCRIPTION COMMAND...: one TAP line for the command's exit status;
# its output is shown as TAP diagnostics only when it fails.
t_check()
{
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		t_ok "$desc"
	else
		t_fail "$desc"
		printf '%s\n' "$out" | sed 's/^/# /' | tail -n 40
		echo "# exit status $rc"
	fi
	return $rc
}

# run_tap COMMAND...: run a helper program that prints its own TAP lines and
# renumber them into this script's sequence; other output becomes
# diagnostics, and a non-zero exit status is one more failure.
run_tap()
{
	local out line rc
	out=$(mktemp)
	"$@" > "$out" 2>&1
	rc=$?
	while read -r line; do
		case "$line" in
		"ok "*) t_ok "${line#ok * - }" ;;
		"not ok "*) t_fail "${line#not ok * - }" ;;
		*) echo "# $line" ;;
		esac
	done < "$out"
	rm -f "$out"
	[ $rc = 0 ] || t_fail "$(basename "$1") exited with status $rc"
}

# fails_with TEXT COMMAND...: COMMAND exits non-zero and says TEXT (its
# error message is part of the interface: operators read it).
fails_with()
{
	local text=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "unexpected success: $out"
		return 1
	fi
	echo "$out"
	grep -qF -- "$text" <<< "$out"
}

t_done()
{
	[ $t_failures -eq 0 ] && exit $KSFT_PASS
	exit $KSFT_FAIL
}

# on_exit COMMAND: run COMMAND (with eval) when the script exits, last first.
on_exit()
{
	t_cleanups+=("$1")
}

t_run_cleanups()
{
	local i
	for ((i = ${#t_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${t_cleanups[i]}" > /dev/null 2>&1 || true
	done
	t_cleanups=()
}
trap t_run_cleanups EXIT

# wait_for SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_for()
{
	local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
	shift
	until "$@" > /dev/null 2>&1; do
		[ "$(date +%s%N)" -ge $deadline ] && return 1
		sleep 0.1
	done
}

netns_add()
{
	ip netns add "$1" || return 1
	on_exit "ip netns del '$1'"
}

module_path()
{
	echo "${COLO_MODULES_DIR:-$REPO/kernel}/$1/$1.ko"
}

# load_module NAME: load the kernel modules NAME needs from the running
# kernel's tree, then our freshly built NAME.ko.
load_module()
{
	local ko dep
	ko=$(module_path "$1")
	if [ ! -f "$ko" ]; then
		echo "load_module: $ko is not built (run make)" >&2
		return 1
	fi
	for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
		modprobe "$dep" || return 1
	done
	insmod "$ko" "${@:2}"
}

unload_module()
{
	if ! rmmod "$1"; then
		echo "unload_module: rmmod $1 failed" >&2
		lsmod | grep -E "^$1 " >&2
		return 1
	fi
}

module_loaded()
{
	[ -d "/sys/module/$1" ]
}

# no_module_autoload: until the script ends, the kernel loads no module on
# its own (request_module() runs /bin/true instead of modprobe). Random
# input names devices and protocols: device-mapper reads "100" as the
# device 1:0 and the kernel then loads brd, whose sixteen RAM disks (about
# 1400 sysfs nodes) stay after the test, in the middle of a leak check.
# Modules the test needs are loaded by the test itself.
no_module_autoload()
{
	local path
	path=$(cat /proc/sys/kernel/modprobe)
	echo /bin/true > /proc/sys/kernel/modprobe
	on_exit "echo '$path' > /proc/sys/kernel/modprobe"
}

# slab_active_objects: total active objects in all slab caches, after
# flushing what is only waiting for reclaim. Keeps the per-cache numbers of
# this reading, and the loaded modules, for slab_settled to compare against.
slab_active_objects()
{
	local total
	echo 2 > /proc/sys/vm/drop_caches
	awk 'NR > 2 { print $1, $2 }' /proc/slabinfo > /tmp/colo-slab.now
	total=$(awk '{ sum += $2 } END { print sum }' /tmp/colo-slab.now)
	mv /tmp/colo-slab.now "/tmp/colo-slab.$total"
	awk '{ print $1 }' /proc/modules | sort > "/tmp/colo-slab.$total.modules"
	echo "$total"
}

# slab_settled BEFORE [TOLERANCE]: the slab total came back to BEFORE (a
# value from slab_active_objects) within TOLERANCE objects (default 2000:
# background kernel work allocates too). A per-message or per-object leak
# under a hostile test of thousands of inputs shows far above that. Polls
# for up to 30 s, since namespaces and RCU-freed objects go away late; on
# failure prints the caches that grew most.
slab_settled()
{
	local before=$1 tolerance=${2:-2000} now i loaded
	loaded=$(awk '{ print $1 }' /proc/modules | sort |
		comm -13 "/tmp/colo-slab.$before.modules" - | tr '\n' ' ')
	if [ -n "$loaded" ]; then
		echo "modules loaded since the first count: $loaded(their objects would count as a leak)"
		return 1
	fi
	for i in $(seq 60); do
		now=$(slab_active_objects)
		if [ $((now - before)) -le "$tolerance" ]; then
			t_note "slab objects: $before before, $now after ($((now - before)), at most $tolerance)"
			return 0
		fi
		sleep 0.5
	done
	echo "slab objects: $before before, $now after (+$((now - before))); grew most:"
	join "/tmp/colo-slab.$before" "/tmp/colo-slab.$now" 2> /dev/null |
		awk '{ d = $3 - $2; if (d > 0) print d, $1 }' | sort -rn | head -8
	return 1
}
