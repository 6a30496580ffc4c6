#!/usr/bin/env bash
# Generates every example (and every spec under tests/specs/, the shapes the examples do
# not use) into a temporary directory and puts the output through the real third-party
# validators (../shared/validators/validate.sh). Zero failures or exit 1. Every systemd
# service must rate at most 2.0 ("OK") on `systemd-analyze security`, except in a spec
# that says why its floor cannot: a line `// validate: SYSTEMD_MAX_EXPOSURE=N because …`
# (systemd 219 has none of the namespace sandbox the score counts).
# Checks skipped by policy are listed, with their reasons, in tests/ci/checkov-skip.txt
# (docs/policy.md). Then, for every Kubernetes environment, the Helm chart rendered with
# its values file must give the same objects as kubernetes/<env>/ (tests/ci/helm_equal.py),
# and order its hooks as Helm needs them (tests/cluster/helm_hooks.py).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
validators="${VALIDATORS_DIR:-$root/../shared/validators}"
hawser="${HAWSER:-$root/target/debug/hawser}"
python="${VALIDATORS_HOME:-/opt/validators}/venv/bin/python3"
skip=""
if [[ -f "$root/tests/ci/checkov-skip.txt" ]]; then
  skip="$(grep -Ev '^\s*(#|$)' "$root/tests/ci/checkov-skip.txt" | awk '{print $1}' | paste -sd, -)"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
for spec in "$root"/examples/*/hawser.kdl "$root"/tests/specs/*.kdl; do
  if [[ "$(basename "$spec")" == hawser.kdl ]]; then name="$(basename "$(dirname "$spec")")"; else name="$(basename "$spec" .kdl)"; fi
  out="$work/$name/generated"
  echo "== $name"
  "$hawser" generate "$spec" --out "$out" --version 1.0.0
  exposure="$(sed -nE 's|^// validate: SYSTEMD_MAX_EXPOSURE=([0-9.]+) because .*|\1|p' "$spec" | head -n 1)"
  # The Kubernetes API the manifests must fit: the oldest version the spec's environments
  # target, which the chart's kubeVersion states (1.30 when they name none).
  k8s_version="1.30.0"
  for chart in "$out"/helm/*/Chart.yaml; do
    if [[ -f "$chart" ]]; then
      k8s_version="$(sed -n 's/^kubeVersion: ">=\([0-9.]*\)-0"$/\1/p' "$chart")"
    fi
  done
  echo "   Kubernetes $k8s_version"
  # Debian's promtool and prometheus (the validators') are built without the Kubernetes
  # discovery and reject `kubernetes_sd_configs` as an unknown field. Such a configuration
  # (`monitoring="config"`) is put through them as they can read it: each discovery replaced
  # by an empty static one, so everything else (durations, relabel actions and regexes, the
  # rule file it loads) is still judged by promtool and the real server. Its discovery and
  # relabelling are checked by tests/cluster (rule `scrape-config`), which applies them to
  # the pods of the manifests the way Prometheus would.
  for config in "$out"/prometheus/*/prometheus.yml; do
    if [[ -f "$config" ]] && grep -q '^  kubernetes_sd_configs:' "$config"; then
      echo "   $(basename "$(dirname "$config")")/prometheus.yml: kubernetes_sd_configs replaced by an empty static_configs for promtool"
      "$python" - "$config" <<'PY'
import sys, yaml
path = sys.argv[1]
text = open(path).read()
config = yaml.safe_load(text)
for job in config["scrape_configs"]:
    if job.pop("kubernetes_sd_configs", None) is not None:
        job["static_configs"] = [{"targets": []}]
header = "".join(line for line in text.splitlines(True) if line.startswith("#"))
open(path, "w").write(header + yaml.safe_dump(config, sort_keys=False))
PY
    fi
  done
  if ! K8S_VERSION="$k8s_version" CHECKOV_SKIP="$skip" SYSTEMD_MAX_EXPOSURE="${exposure:-2.0}" VALIDATE_PROM_SERVER=1 "$validators/validate.sh" "$out"; then
    status=1
  fi
  if [[ -d "$out/helm" ]] && ! K8S_VERSION="$k8s_version" "$python" "$root/tests/ci/helm_equal.py" "$out"; then
    status=1
  fi
  if [[ -d "$out/helm" ]] && ! K8S_VERSION="$k8s_version" HAWSER="$hawser" "$python" "$root/tests/cluster/helm_hooks.py" "$out" "$spec"; then
    status=1
  fi
done
# The hook check must fail on a chart that hooks a shared ExternalSecret (Helm would delete
# the Secret of running pods on every upgrade) and on one that does not hook a migration.
broken="$root/tests/cluster/broken/references.kdl"
"$hawser" generate "$broken" --out "$work/broken/generated" --version 1.0.0 >/dev/null
for edit in externalSecrets.p-db-password.workload=migrate workloads.migrate.job.hook=false; do
  if HAWSER="$hawser" "$python" "$root/tests/cluster/helm_hooks.py" "$work/broken/generated" "$broken" --set "$edit" >/dev/null; then
    echo "FAIL helm_hooks.py accepts the chart with --set $edit"
    status=1
  else
    echo "PASS helm_hooks.py rejects the chart with --set $edit"
  fi
done
exit "$status"
