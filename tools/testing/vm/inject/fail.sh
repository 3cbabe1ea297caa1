#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Harness self-check only (COLO_INJECT=fail): a test that fails.
. "$(dirname "$0")/../../selftests/colo/lib.sh"
t_check "a check that is false on purpose (COLO_INJECT=fail)" test 1 -eq 2
t_done
