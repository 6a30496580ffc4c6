#!/usr/bin/env bash
# The payments example's generated build.sh, run with Go 1.23 from two clean copies of the
# example: both builds must be byte-identical, static and stamped with the version, and
# the api must answer its readiness path when started with the environment file its
# systemd unit names.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
hawser="${HAWSER:-$root/target/debug/hawser}"
go="${GO:-/opt/validators/bin/go1.23}"
[[ -x "$go" ]] || { echo "go-build: Go 1.23 not found at $go (install the validators with WITH_GO123=1)" >&2; exit 1; }
work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

for copy in a b; do
  mkdir -p "$work/$copy"
  cp -r "$root/examples/payments/." "$work/$copy/"
  rm -rf "$work/$copy/generated" "$work/$copy/dist"
  "$hawser" generate "$work/$copy/hawser.kdl" --version 1.2.3 2>/dev/null
  echo "== build in copy $copy"
  # Separate caches: the second build must not reuse the first one's results.
  (cd "$work/$copy" && GOCACHE="$work/cache-$copy" GOMODCACHE="$work/mod-$copy" GOPROXY=off GOTOOLCHAIN=local \
     VERSION=1.2.3 COMMIT=0123456789abcdef SOURCE_DATE_EPOCH=1700000000 GO="$go" generated/build/build.sh)
done

echo "== the two builds are byte-identical"
diff "$work/a/dist/SHA256SUMS" "$work/b/dist/SHA256SUMS"
cat "$work/a/dist/SHA256SUMS"

bin="$work/a/dist/linux-amd64"
echo "== static"
for f in "$bin"/*; do
  file -b "$f" | grep -Eq 'statically linked|static-pie linked' || { echo "$f is not static: $(file -b "$f")" >&2; exit 1; }
done
echo "all static"

echo "== stamped with the version"
"$bin/api" -version | tee "$work/version.txt"
grep -q '1.2.3' "$work/version.txt"

echo "== readiness with the unit's environment file"
unit="$work/a/generated/systemd/dev/payments-api.service"
envfile="$(sed -n 's/^EnvironmentFile=//p' "$unit")"
[[ -n "$envfile" ]] || { echo "the unit names no EnvironmentFile" >&2; exit 1; }
generated_env="$work/a/generated/systemd/dev/$(basename "$envfile")"
echo "unit names $envfile -> $generated_env"
port="$(sed -n 's/^HTTP_PORT="\(.*\)"$/\1/p' "$generated_env")"
path="$(sed -n 's|.*ready "\(/[^"]*\)" port="http".*|\1|p' "$root/examples/payments/hawser.kdl" | head -1)"
(
  set -a
  # shellcheck disable=SC1090
  . "$generated_env"
  # The unit's own Environment= lines (GOMAXPROCS, GOMEMLIMIT, and a <KEY>_FILE per secret).
  # A secret's file is in systemd's credentials directory on a host; here each gets a
  # stand-in file (no secret exists in CI), so the program reads its secrets the way the
  # contract says, and refuses to start without them.
  mkdir -p "$work/credentials"
  while IFS= read -r line; do
    assignment="${line#Environment=}"
    case "$assignment" in
      *_FILE=*)
        credential="$work/credentials/${assignment##*/}"
        printf 'stand-in for %s\n' "${assignment##*/}" > "$credential"
        export "${assignment%%=*}=$credential"
        ;;
      *) export "${assignment?}" ;;
    esac
  done < <(grep '^Environment=' "$unit")
  set +a
  exec "$bin/api"
) > "$work/api.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port$path" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port$path" || { echo "the api did not answer; its log:" >&2; cat "$work/api.log" >&2; exit 1; }
echo " <- GET $path on port $port"
kill -TERM "$pid"
wait "$pid"
echo "api exited $? after SIGTERM"
pid=""
grep -q '1.2.3' "$work/api.log"
echo "go-build: ok"
