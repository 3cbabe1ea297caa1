#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the VM: run the benchmarks named (default: all of bench/*.sh but
# the libraries they source, *_lib.sh).
DIR=$(cd "$(dirname "$0")" && pwd)
rc=0
names=("$@")
[ ${#names[@]} -eq 0 ] && names=($(cd "$DIR" && ls *.sh | grep -v -e '^run-bench.sh$' -e '^bench-all.sh$' -e '_lib.sh$' | sed 's/\.sh$//'))
for name in "${names[@]}"; do
	echo
	echo "================ benchmark: $name ================"
	bash "$DIR/$name.sh" || { echo "benchmark $name FAILED"; rc=1; }
done
exit $rc
