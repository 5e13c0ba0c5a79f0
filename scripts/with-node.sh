#!/usr/bin/env bash
# Run a command with the project's Node runtime and dependencies in place (see env.sh).
set -euo pipefail
. "$(dirname "$0")/env.sh"
exec "$@"
