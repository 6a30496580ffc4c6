#!/usr/bin/env bash
# The generated build.sh of every example with a Go module (payments, podinfo), run with
# Go 1.23 from two clean copies of the example: both builds must be byte-identical, static
# and stamped with the version. Then each program runs as its deployment runs it: the
# payments api with the environment file its systemd unit names, podinfo with the
# arguments, environment and configuration file of its Kubernetes manifest; each must
# answer its readiness path and exit cleanly on SIGTERM.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
hawser="${HAWSER:-$root/target/debug/hawser}"
go="${GO:-/opt/validators/bin/go1.23}"
python="${VALIDATORS_HOME:-/opt/validators}/venv/bin/python3"
[[ -x "$go" ]] || { echo "go-build: Go 1.23 not found at $go (install the validators with WITH_GO123=1)" >&2; exit 1; }
work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# build EXAMPLE: builds the example twice from clean copies and checks the two builds.
build() {
  local example="$1" copy
  for copy in a b; do
    mkdir -p "$work/$example/$copy"
    cp -r "$root/examples/$example/." "$work/$example/$copy/"
    rm -rf "$work/$example/$copy/generated" "$work/$example/$copy/dist"
    "$hawser" generate "$work/$example/$copy/hawser.kdl" --version 1.2.3 2>/dev/null
    echo "== $example: build in copy $copy"
    # Separate caches: the second build must not reuse the first one's results.
    (cd "$work/$example/$copy" && GOCACHE="$work/cache-$example-$copy" GOMODCACHE="$work/mod-$example-$copy" GOPROXY=off GOTOOLCHAIN=local \
       VERSION=1.2.3 COMMIT=0123456789abcdef SOURCE_DATE_EPOCH=1700000000 GO="$go" generated/build/build.sh)
  done

  echo "== $example: the two builds are byte-identical"
  diff "$work/$example/a/dist/SHA256SUMS" "$work/$example/b/dist/SHA256SUMS"
  cat "$work/$example/a/dist/SHA256SUMS"

  echo "== $example: static"
  local f
  for f in "$work/$example/a/dist/linux-amd64"/*; do
    file -b "$f" | grep -Eq 'statically linked|static-pie linked' || { echo "$f is not static: $(file -b "$f")" >&2; exit 1; }
  done
  echo "all static"
}

build payments
build podinfo

bin="$work/payments/a/dist/linux-amd64"

echo "== payments: stamped with the version"
"$bin/api" -version | tee "$work/version.txt"
grep -q '1.2.3' "$work/version.txt"

echo "== payments: readiness with the unit's environment file"
unit="$work/payments/a/generated/systemd/dev/payments-api.service"
envfile="$(sed -n 's/^EnvironmentFile=//p' "$unit")"
[[ -n "$envfile" ]] || { echo "the unit names no EnvironmentFile" >&2; exit 1; }
generated_env="$work/payments/a/generated/systemd/dev/$(basename "$envfile")"
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

echo "== podinfo: stamped with the version"
bin="$work/podinfo/a/dist/linux-amd64"
"$bin/podinfo" --version | tee "$work/podinfo-version.txt"
grep -qx '1.2.3' "$work/podinfo-version.txt"
# podcli ships in the image only (the Dockerfile builds it beside the server); built here
# with the same stamp for the checks below.
(cd "$work/podinfo/a" && GOCACHE="$work/cache-podinfo-a" GOMODCACHE="$work/mod-podinfo-a" GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 \
   "$go" build -trimpath -ldflags "-X example.com/podinfo/pkg/version.VERSION=1.2.3" -o "$work/podcli" ./cmd/podcli)
podcli="$work/podcli"
"$podcli" version | grep -qx '1.2.3'

echo "== podinfo: runs as its staging manifest runs it"
# The container's arguments, its ConfigMap environment and its configuration file, read
# from the generated manifest; the mount paths the arguments name (/data, /etc/podinfo,
# /ui) are moved under the scratch directory, the ports stay the spec's. No Redis runs
# here: podinfo logs that the cache is unreachable and serves everything else.
manifest="$work/podinfo/a/generated/kubernetes/staging/podinfo.yaml"
mkdir -p "$work/podinfo-run/etc/podinfo" "$work/podinfo-run/data"
cp -r "$root/examples/podinfo/ui" "$work/podinfo-run/ui"
mapfile -t podinfo_args < <("$python" - "$manifest" "$work/podinfo-run" <<'PY'
import sys, yaml
manifest, run = sys.argv[1], sys.argv[2]
objects = [o for o in yaml.safe_load_all(open(manifest)) if o]
sts = next(o for o in objects if o["kind"] == "StatefulSet")
container = sts["spec"]["template"]["spec"]["containers"][0]
files = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "podinfo-files")
mount = next(m for m in container["volumeMounts"] if m["name"] == "files")
with open(run + mount["mountPath"], "w") as f:
    f.write(files["data"][mount["subPath"]])
for arg in container["args"]:
    for path in ("/data", "/etc/podinfo", "/ui"):
        if arg.endswith("=" + path):
            arg = arg[: -len(path)] + run + path
    print(arg)
PY
)
cache_server="$(sed -n 's/^  PODINFO_CACHE_SERVER: //p' "$manifest")"
echo "podinfo ${podinfo_args[*]} (PODINFO_CACHE_SERVER=$cache_server)"
PODINFO_CACHE_SERVER="$cache_server" "$bin/podinfo" "${podinfo_args[@]}" > "$work/podinfo.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:9898/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
"$podcli" check http 127.0.0.1:9898/readyz || { echo "podinfo did not answer; its log:" >&2; cat "$work/podinfo.log" >&2; exit 1; }
# The staging configuration file's message, read from the mounted path.
curl -fsS http://127.0.0.1:9898/version | tee "$work/podinfo-info.json"
grep -q '"message":"greetings from podinfo (staging)"' "$work/podinfo-info.json"
grep -q '"version":"1.2.3"' "$work/podinfo-info.json"
# A file kept under the data path, counted on the metrics port.
curl -fsS -X POST --data-binary 'kept' http://127.0.0.1:9898/store
test -f "$work/podinfo-run/data/$(printf kept | sha1sum | cut -c1-40)"
curl -fsS http://127.0.0.1:9797/metrics | grep -x 'stored_files 1'
kill -TERM "$pid"
wait "$pid"
echo "podinfo exited $? after SIGTERM"
pid=""
grep -q 'cache server not reachable yet' "$work/podinfo.log"
echo "go-build: ok"
