# The real stack's one state directory variable, STATE_DIR (configs, databases, logs, pid files, clouds.yaml).
# OCX_REAL_STATE_DIR is its old name on the test side: still read, so both point at the same place. Source me.
if [ -n "${OCX_REAL_STATE_DIR:-}" ] && [ -n "${STATE_DIR:-}" ] && [ "$OCX_REAL_STATE_DIR" != "$STATE_DIR" ]; then
  echo "STATE_DIR=$STATE_DIR and OCX_REAL_STATE_DIR=$OCX_REAL_STATE_DIR differ: set only STATE_DIR" >&2
  exit 2
fi
export STATE_DIR=${STATE_DIR:-${OCX_REAL_STATE_DIR:-/tmp/ocx-real}}
export OCX_REAL_STATE_DIR=$STATE_DIR
