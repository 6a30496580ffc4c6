#!/usr/bin/env bash
# `hawser lsp` in a real editor: headless Neovim opens a broken spec, must show hawser's
# diagnostics at the right lines and columns (a wide character before one of them), and
# must see them clear once both mistakes are fixed in the buffer.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HAWSER="${HAWSER:-target/debug/hawser}"
[[ -x "$HAWSER" ]] || cargo build --locked --bin hawser
command -v nvim >/dev/null || { echo "nvim-lsp: nvim is not installed"; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp tests/ci/nvim/broken.kdl "$work/hawser.kdl"
HAWSER="$(realpath "$HAWSER")" RESULT="$work/result.json" \
  timeout 120 nvim --headless -u NONE -i NONE -n -c "luafile tests/ci/nvim/lsp.lua" "$work/hawser.kdl" </dev/null
python3 - "$work/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
before = sorted((d["lnum"], d["col"], d["code"]) for d in r["before"])
# Lines from 0, byte columns: `replica` follows `/* 🚀 */ ` (15 bytes, 13 UTF-16 units);
# the unknown secret's name starts after `DB_PASSWORD (secret)`; with the reference
# misspelt, the declared secret is unused.
expected = [(11, 15, "E0002"), (16, 28, "E0201"), (20, 7, "W0106")]
problems = []
if before != expected:
    problems.append(f"diagnostics on open: got {before}, expected {expected}")
if r["after"]:
    problems.append(f"diagnostics after the fix: got {r['after']}, expected none")
for p in problems:
    print("FAIL:", p)
print(f"nvim-lsp: diagnostics on open {'as expected' if before == expected else 'WRONG'}, "
      f"{'cleared' if not r['after'] else 'NOT cleared'} after the fix (encoding {r['encoding']})")
sys.exit(1 if problems else 0)
PY
