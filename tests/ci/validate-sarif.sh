#!/usr/bin/env bash
# Validates hawser's SARIF output against the SARIF 2.1.0 JSON schema (OASIS, errata01;
# vendored as tests/review/sarif-schema-2.1.0.json) with the `jsonschema` package from PyPI:
# `check --format sarif` on every spec of the diagnostics corpus and every example, and
# `generate --check --format sarif` on drifted output.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
venv=target/sarif-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet jsonschema
fi
cargo build --quiet --locked
hawser="$PWD/target/debug/hawser"
out=target/sarif-out
rm -rf "$out"
mkdir -p "$out"
for spec in tests/diagnostics/*.kdl tests/diagnostics_seed.kdl examples/*/hawser.kdl; do
    "$hawser" check --format sarif "$spec" > "$out/$(echo "$spec" | tr / _).sarif" || true
done
work="$out/drift"
mkdir -p "$work"
cp examples/payments/hawser.kdl "$work/"
(cd "$work" && "$hawser" generate --version 1.0.0 2>/dev/null && echo "# hand" >> generated/build/build.sh && rm generated/docker/api.Dockerfile \
    && { "$hawser" generate --check --version 1.0.0 --format sarif > ../drift.sarif || true; })
"$venv/bin/python" - "$out" <<'PY'
import json, pathlib, sys
import jsonschema
schema = json.load(open("tests/review/sarif-schema-2.1.0.json"))
validator = jsonschema.Draft4Validator(schema)
files = sorted(pathlib.Path(sys.argv[1]).glob("*.sarif"))
failed = 0
results = 0
for f in files:
    log = json.load(open(f))
    errors = list(validator.iter_errors(log))
    results += len(log["runs"][0]["results"])
    for e in errors[:3]:
        print(f"{f.name}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
    failed += bool(errors)
print(f"SARIF: {len(files) - failed} passed, {failed} failed ({results} results)")
sys.exit(1 if failed or len(files) < 50 or results == 0 else 0)
PY
