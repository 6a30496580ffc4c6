#!/usr/bin/env bash
# Generates every example and runs the validators on the output, with the checkov checks
# skipped by policy (tests/ci/checkov-skip.txt), then the Helm equality check.
# usage: tests/ci/validate-examples.sh [HAWSER_BINARY]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
hawser="${1:-$root/target/debug/hawser}"
validate="${VALIDATE_SH:-$root/../shared/validators/validate.sh}"
[[ -x "$validate" ]] || validate=/work/shared/validators/validate.sh
CHECKOV_SKIP="$(grep -v '^#' "$here/checkov-skip.txt" | awk 'NF {print $1}' | paste -sd, -)"
export CHECKOV_SKIP
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
for spec in "$root"/examples/*/hawser.kdl; do
  name="$(basename "$(dirname "$spec")")"
  "$hawser" generate "$spec" --out "$tmp/$name" --version 1.0.0
  "$validate" "$tmp/$name" || status=1
  /opt/validators/venv/bin/python3 "$here/helm_equal.py" "$tmp/$name" || status=1
done
exit "$status"
