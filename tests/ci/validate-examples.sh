#!/usr/bin/env bash
# Generates every example into a temporary directory and puts the output through the
# real third-party validators (../shared/validators/validate.sh). Zero failures or exit 1.
# Checks skipped by policy are listed, with their reasons, in tests/ci/checkov-skip.txt.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
validators="${VALIDATORS_DIR:-$root/../shared/validators}"
hawser="${HAWSER:-$root/target/debug/hawser}"
skip=""
if [[ -f "$root/tests/ci/checkov-skip.txt" ]]; then
  skip="$(grep -Ev '^\s*(#|$)' "$root/tests/ci/checkov-skip.txt" | awk '{print $1}' | paste -sd, -)"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
for spec in "$root"/examples/*/hawser.kdl; do
  name="$(basename "$(dirname "$spec")")"
  out="$work/$name/generated"
  echo "== $name"
  "$hawser" generate "$spec" --out "$out" --version 1.0.0
  if ! CHECKOV_SKIP="$skip" VALIDATE_PROM_SERVER=1 "$validators/validate.sh" "$out"; then
    status=1
  fi
done
exit "$status"
