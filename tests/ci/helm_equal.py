#!/usr/bin/env python3
"""Renders the Helm chart of a hawser output directory for every Kubernetes environment and
checks that it gives the same objects, field for field, as kubernetes/<env>/*.yaml.

usage: helm_equal.py OUTDIR   (run with a Python that has PyYAML, e.g. /opt/validators/venv/bin/python3)

The only accepted difference is Helm's hook annotations (`helm.sh/hook*`) on a hook job and
the objects it needs (see docs/policy.md). The chart is also linted with every environment's
values: `helm lint` takes no values file here, so each environment's values are merged the
way Helm merges them (`null` removes a key) into a copy of the chart.
"""
import copy, glob, os, shutil, subprocess, sys, tempfile

import yaml

VH = os.environ.get("VALIDATORS_HOME", "/opt/validators")
RENDER = os.path.join(VH, "bin", "helm-render")
# helm lint as validate.sh runs it: the validators' helm_lint.py (VALIDATORS_DIR, by default
# ../shared/validators beside the repository) with the Helm library and renderer of
# VALIDATORS_HOME; the installed wrapper bin/helm-lint when that script is not there.
VALIDATORS_DIR = os.environ.get("VALIDATORS_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "validators"))
if os.path.exists(os.path.join(VALIDATORS_DIR, "helm_lint.py")):
    LINT = [sys.executable, os.path.join(VALIDATORS_DIR, "helm_lint.py"), "--lib", os.path.join(VH, "helm-sdkpy", "libhelm_sdkpy.so"),
            "--renderer", RENDER]
else:
    LINT = [os.path.join(VH, "bin", "helm-lint")]
K8S_VERSION = os.environ.get("K8S_VERSION", "1.30.0")


def load_all(text):
    return [d for d in yaml.safe_load_all(text) if d is not None]


def key(o):
    return (o["kind"], o["metadata"]["name"])


def strip_helm(o):
    o = copy.deepcopy(o)
    ann = o["metadata"].get("annotations")
    if ann is not None:
        for k in [k for k in ann if k.startswith("helm.sh/")]:
            del ann[k]
        if not ann:
            del o["metadata"]["annotations"]
    return o


def first_difference(a, b, path=""):
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a:
                return f"{path}.{k}: only in the chart ({b[k]!r})"
            if k not in b:
                return f"{path}.{k}: only in the manifests ({a[k]!r})"
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def merge(dst, src):
    for k, v in src.items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict) and isinstance(dst.get(k), dict):
            merge(dst[k], v)
        else:
            dst[k] = v
    return dst


def main(out):
    failures = 0
    charts = glob.glob(os.path.join(out, "helm", "*", "Chart.yaml"))
    envs = sorted(glob.glob(os.path.join(out, "kubernetes", "*")))
    if not envs:
        print(f"no Kubernetes environments in {out}")
        return 0
    if len(charts) != 1:
        print(f"FAIL expected one chart under {out}/helm, found {len(charts)}")
        return 1
    chart = os.path.dirname(charts[0])
    project = yaml.safe_load(open(charts[0]))["name"]
    base_values = yaml.safe_load(open(os.path.join(chart, "values.yaml"))) or {}
    for env_dir in envs:
        env = os.path.basename(env_dir)
        manifests = {}
        for f in sorted(glob.glob(os.path.join(env_dir, "*.yaml"))):
            for o in load_all(open(f).read()):
                manifests[key(o)] = o
        namespaces = {o["metadata"]["namespace"] for o in manifests.values()}
        if len(namespaces) != 1:
            print(f"FAIL {env}: objects in {len(namespaces)} namespaces")
            failures += 1
            continue
        ns = namespaces.pop()
        env_values = os.path.join(chart, f"values-{env}.yaml")
        cmd = [RENDER, "--kube-version", f"v{K8S_VERSION}", "--release-name", project, "--namespace", ns, "--strict",
               "-f", os.path.join(chart, "values.yaml"), "-f", env_values, chart]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL {env}: helm-render: {r.stderr.strip()}")
            failures += 1
            continue
        rendered = {}
        for o in load_all(r.stdout):
            if key(o) in rendered:
                print(f"FAIL {env}: the chart renders {key(o)} twice")
                failures += 1
            rendered[key(o)] = strip_helm(o)
        env_failures = 0
        for k in sorted(set(manifests) | set(rendered)):
            if k not in rendered:
                print(f"FAIL {env}: {k[0]} {k[1]} is in kubernetes/{env}/ but not in the chart")
            elif k not in manifests:
                print(f"FAIL {env}: {k[0]} {k[1]} is in the chart but not in kubernetes/{env}/")
            else:
                d = first_difference(manifests[k], rendered[k])
                if not d:
                    continue
                print(f"FAIL {env}: {k[0]} {k[1]} differs at {d}")
            env_failures += 1
        failures += env_failures
        if not env_failures:
            print(f"PASS {env}: the chart renders the {len(manifests)} objects of kubernetes/{env}/ (namespace {ns})")
        # helm lint with this environment's values.
        with tempfile.TemporaryDirectory() as tmp:
            copy_dir = os.path.join(tmp, project)
            shutil.copytree(chart, copy_dir)
            merged = merge(copy.deepcopy(base_values), yaml.safe_load(open(env_values)) or {})
            with open(os.path.join(copy_dir, "values.yaml"), "w") as f:
                yaml.safe_dump(merged, f)
            lint = subprocess.run(LINT + [copy_dir], capture_output=True, text=True)
            if lint.returncode != 0:
                print(f"FAIL {env}: helm lint with values-{env}.yaml:\n{lint.stdout}{lint.stderr}")
                failures += 1
            else:
                print(f"PASS {env}: helm lint with values-{env}.yaml")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
