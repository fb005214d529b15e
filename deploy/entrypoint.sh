#!/bin/sh
# Secrets as files (Docker/compose secrets, Kubernetes secret volumes): for every DW_*_FILE
# variable, DW_* is set to the file's content (trailing newline dropped), e.g.
# DW_SECRET_KEY_FILE=/run/secrets/dw_secret_key. Setting both is an error.
set -eu
for var in $(env | sed -n 's/^\(DW_[A-Z0-9_]*\)_FILE=.*/\1/p'); do
  file=$(printenv "${var}_FILE")
  if printenv "$var" >/dev/null; then
    echo "drivewarden: both $var and ${var}_FILE are set; set one" >&2
    exit 2
  fi
  [ -r "$file" ] || { echo "drivewarden: ${var}_FILE=$file is not readable" >&2; exit 2; }
  export "$var=$(cat "$file")"
  unset "${var}_FILE"
done
exec node /app/bin/drivewarden.js "$@"
