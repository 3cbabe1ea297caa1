#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Harness self-check only (COLO_INJECT=warn): the test itself passes, but the
# kernel prints a WARNING, which the runner must turn into a failure.
. "$(dirname "$0")/../../selftests/colo/lib.sh"
insmod "$REPO/tools/testing/vm/inject/colo_provoke_warn.ko"
t_ok "loaded the module that provokes a WARNING (COLO_INJECT=warn)"
t_done
