#!/usr/bin/env python3
"""Renders the Helm chart of a hawser output directory for every Kubernetes environment and
checks how Helm would order and keep its objects:

- every run-once Job that another workload depends on is a pre-install,pre-upgrade hook, so
  it completes before the release's other objects are applied; a hook Job that depends on
  another hook Job has a higher weight;
- every object a hook Job needs (its ServiceAccount, ConfigMap, the ExternalSecrets that
  produce the Secrets it reads, the Roles that let it read the Jobs it waits for) is a hook
  of a lower weight, so it exists when the Job runs;
- no object that an ordinary workload needs is a hook: Helm deletes and re-creates hooks on
  every upgrade (and an ExternalSecret's Secret with it), while those pods run.

usage: helm_hooks.py OUTDIR SPEC [--set key=value]...
  (run with a Python that has PyYAML, e.g. /opt/validators/venv/bin/python3; SPEC is the
  spec OUTDIR was generated from, whose dependency graph `hawser graph` prints; `--set` is
  passed to the renderer, which is how tests/ci/validate-examples.sh proves the check fails
  on a chart that hooks a shared ExternalSecret.)
"""
import glob, os, re, subprocess, sys

import yaml

VH = os.environ.get("VALIDATORS_HOME", "/opt/validators")
RENDER = os.path.join(VH, "bin", "helm-render")
K8S_VERSION = os.environ.get("K8S_VERSION", "1.30.0")
HAWSER = os.environ.get("HAWSER", os.path.join(os.path.dirname(__file__), "..", "..", "target", "debug", "hawser"))


def dependencies(spec):
    """The graph's edges between workloads and externals: {from: {to, ...}}."""
    dot = subprocess.run([HAWSER, "graph", spec, "--format", "dot"], capture_output=True, text=True, check=True).stdout
    edges = {}
    for a, b, rest in re.findall(r'^\s*"([^"]+)" -> "([^"]+)"(.*);$', dot, re.M):
        if "dashed" not in rest:
            edges.setdefault(a, set()).add(b)
    return edges


def hook(o):
    ann = o["metadata"].get("annotations") or {}
    if "helm.sh/hook" not in ann:
        return None
    return set(ann["helm.sh/hook"].split(",")), int(ann.get("helm.sh/hook-weight", "0"))


def pod_spec(o):
    if o["kind"] in ("Deployment", "Job"):
        return o["spec"]["template"]["spec"]
    if o["kind"] == "CronJob":
        return o["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def needs(o, objects):
    """The objects of the release a workload's pods need before they can start."""
    spec = pod_spec(o)
    out = [("ServiceAccount", spec.get("serviceAccountName", "default"))]
    secrets = set()
    for c in spec.get("initContainers", []) + spec["containers"]:
        for f in c.get("envFrom", []):
            if "configMapRef" in f:
                out.append(("ConfigMap", f["configMapRef"]["name"]))
        for e in c.get("env", []):
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                secrets.add(ref["name"])
    for v in spec.get("volumes", []):
        if "secret" in v:
            secrets.add(v["secret"]["secretName"])
    for (kind, name), es in objects.items():
        if kind == "ExternalSecret" and es["spec"]["target"].get("name", name) in secrets:
            out.append((kind, name))
    # The RoleBindings (and their Roles) that let its job waits read the Jobs they wait for.
    account = spec.get("serviceAccountName", "default")
    for (kind, name), rb in objects.items():
        if kind == "RoleBinding" and any(s.get("kind") == "ServiceAccount" and s.get("name") == account for s in rb.get("subjects") or []):
            out.append((kind, name))
            out.append((rb["roleRef"]["kind"], rb["roleRef"]["name"]))
    return [k for k in out if k in objects]


def check(objects, edges):
    failures = []
    workloads = {o["metadata"]["labels"]["app.kubernetes.io/name"]: k for k, o in objects.items() if pod_spec(o) is not None}
    depended = {b for deps in edges.values() for b in deps}
    for name, key in sorted(workloads.items()):
        o = objects[key]
        h = hook(o)
        if key[0] == "Job" and name in depended:
            if h is None or not {"pre-install", "pre-upgrade"} <= h[0]:
                failures.append(f"Job {key[1]}: others depend on it, but it is not a pre-install,pre-upgrade hook")
                continue
            for dep in sorted(edges.get(name, ())):
                dk = workloads.get(dep)
                if dk and dk[0] == "Job" and hook(objects[dk]) and hook(objects[dk])[1] >= h[1]:
                    failures.append(f"Job {key[1]} (weight {h[1]}) runs no later than {dk[1]} it depends on (weight {hook(objects[dk])[1]})")
        for need in needs(o, objects):
            nh = hook(objects[need])
            if h is None and nh is not None:
                failures.append(f"{key[0]} {key[1]} needs {need[0]} {need[1]}, a hook Helm deletes and re-creates on every upgrade")
            if h is not None and (nh is None or nh[1] >= h[1]):
                failures.append(f"hook {key[0]} {key[1]} needs {need[0]} {need[1]}, which does not exist before it runs")
    return failures


def main(out, spec, sets):
    charts = glob.glob(os.path.join(out, "helm", "*", "Chart.yaml"))
    envs = sorted(glob.glob(os.path.join(out, "kubernetes", "*")))
    if not envs:
        print(f"no Kubernetes environments in {out}")
        return 0
    chart = os.path.dirname(charts[0])
    project = yaml.safe_load(open(charts[0]))["name"]
    edges = dependencies(spec)
    failed = 0
    for env_dir in envs:
        env = os.path.basename(env_dir)
        cmd = [RENDER, "--kube-version", f"v{K8S_VERSION}", "--release-name", project, "--namespace", "ns", "--strict",
               "-f", os.path.join(chart, "values.yaml"), "-f", os.path.join(chart, f"values-{env}.yaml")]
        for s in sets:
            cmd += ["--set", s]
        r = subprocess.run(cmd + [chart], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL hooks {env}: helm-render: {r.stderr.strip()}")
            failed += 1
            continue
        objects = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(r.stdout) if o}
        failures = check(objects, edges)
        for f in failures:
            print(f"FAIL hooks {env}: {f}")
        if not failures:
            print(f"PASS hooks {env}: migrations run before their dependents; no shared object is a hook")
        failed += bool(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    plain = [a for i, a in enumerate(args) if a != "--set" and (i == 0 or args[i - 1] != "--set")]
    if len(plain) != 2:
        sys.exit(__doc__)
    sys.exit(main(plain[0], plain[1], sets))
