#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inside the VM: run every demonstration piece in order; fail if one fails.
DIR=$(cd "$(dirname "$0")" && pwd)
rc=0
for piece in "$DIR"/[0-9][0-9]-*.sh; do
	echo
	echo "================ $(basename "$piece" .sh) ================"
	if ! bash "$piece"; then
		echo "demo piece $(basename "$piece") FAILED"
		rc=1
	fi
done
exit $rc
