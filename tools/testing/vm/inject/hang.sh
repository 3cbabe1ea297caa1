#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Harness self-check only (COLO_INJECT=hang, with a short COLO_TEST_TIMEOUT):
# a test that never ends, with a child of its own. The run must stop it with
# its child, count it as failed, and go on.
. "$(dirname "$0")/../../selftests/colo/lib.sh"
t_ok "started a test that hangs on purpose (COLO_INJECT=hang)"
sleep infinity &
wait
