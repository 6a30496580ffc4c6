#!/usr/bin/env python3
"""Whole-process timings of hawser against the Python baseline, interleaved in one run.

    python3 bench/run.py [--sizes 100,1000,5000] [--rounds 10] [--write bench/results.md]

Builds the release binary, writes the reference workload (`hawser::synthetic::spec(N)`:
N services, two Kubernetes environments) and the every-kind workload (`host_spec`), then
runs, round after round and in the same order each round, for every N:

    baseline             python3 bench/baseline.py N DIR (fresh directory)
    check                hawser check
    generate-fresh       hawser generate into a fresh directory
    generate-unchanged   hawser generate when nothing changed
    check-unchanged      hawser generate --check when nothing changed
    check-full           hawser generate --check --full: every file compared, no cache

and, at N = 1000, `host-fresh` (every artifact kind). The machine is shared and noisy, so
every figure is a median over the rounds and every budget is a ratio to the baseline
measured in the same run. Peak memory is the child's maximum resident set size.

Fresh output is made by renaming the previous one away, never by deleting it: this file
system slows file creation for minutes after a mass delete, which would swamp the
measurement. The renamed trees are removed once at the end.
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "bench-work")
HAWSER = os.path.join(ROOT, "target", "release", "hawser")
SYNTHETIC = os.path.join(ROOT, "target", "release", "examples", "synthetic")

# Budgets, as ratios to the baseline at N = 1000 (and linearity to N = 5000).
BUDGETS = {
    "generate-fresh": 1.0,
    "generate-unchanged": 0.4,
    "check-unchanged": 0.4,
    "check": 0.5,
    "host-fresh": 3.0,
}
MEMORY_BUDGET_MIB = 50
LINEAR = 5.5


def run(argv, cwd=None):
    """Runs argv; returns (seconds, peak RSS in MiB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


class Bench:
    def __init__(self):
        self.times = {}
        self.memory = {}
        self.loads = []
        self.trash = os.path.join(WORK, "trash")
        self.moved = 0
        os.makedirs(self.trash, exist_ok=True)

    def away(self, path):
        """Renames `path` into the trash, so that the next run writes a fresh tree."""
        if os.path.exists(path):
            self.moved += 1
            os.rename(path, os.path.join(self.trash, str(self.moved)))

    def record(self, key, argv, expect=0):
        seconds, mib, code = run(argv)
        if code != expect:
            sys.exit(f"{' '.join(argv)} exited {code}, expected {expect}")
        self.times.setdefault(key, []).append(seconds)
        self.memory[key] = max(self.memory.get(key, 0), mib)

    def round(self, sizes):
        self.loads.append(load())
        for n in sizes:
            d = os.path.join(WORK, str(n))
            spec, out = os.path.join(d, "hawser.kdl"), os.path.join(d, "generated")
            base = os.path.join(d, "baseline")
            self.away(base)
            self.record((n, "baseline"), [sys.executable, os.path.join(ROOT, "bench", "baseline.py"), str(n), base])
            self.record((n, "check"), [HAWSER, "check", spec])
            self.away(out)
            self.record((n, "generate-fresh"), [HAWSER, "generate", spec, "--version", "1.0.0"])
            self.record((n, "generate-unchanged"), [HAWSER, "generate", spec, "--version", "1.0.0"])
            self.record((n, "check-unchanged"), [HAWSER, "generate", "--check", spec, "--version", "1.0.0"])
            self.record((n, "check-full"), [HAWSER, "generate", "--check", "--full", spec, "--version", "1.0.0"])
            if n == 1000:
                host = os.path.join(WORK, "host-1000")
                self.away(os.path.join(host, "generated"))
                self.record((n, "host-fresh"), [HAWSER, "generate", os.path.join(host, "hawser.kdl"), "--version", "1.0.0"])

    def median(self, key):
        return statistics.median(self.times[key]) * 1000


def prepare(sizes):
    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "hawser", "--example", "synthetic"], cwd=ROOT, check=True)
    for n in sizes:
        d = os.path.join(WORK, str(n))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "hawser.kdl"), "w") as f:
            f.write(subprocess.run([SYNTHETIC, str(n)], check=True, capture_output=True, text=True).stdout)
    host = os.path.join(WORK, "host-1000")
    os.makedirs(host, exist_ok=True)
    with open(os.path.join(host, "hawser.kdl"), "w") as f:
        f.write(subprocess.run([SYNTHETIC, "1000", "host"], check=True, capture_output=True, text=True).stdout)


def machine():
    model = "unknown processor"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // (1024 * 1024)
    except OSError:
        mem = 0
    os_name = platform.system() + " " + platform.release()
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"') + f" (kernel {platform.release()})"
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip() or "rustc unknown"
    return f"{os.cpu_count()} cores ({model}), {mem} GiB, {os_name}, {rustc}, Python {platform.python_version()}"


def load():
    """The load average over the last minute: how busy the shared machine was."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return float("nan")


def report(b, sizes, rounds):
    kinds = ["baseline", "check", "generate-fresh", "generate-unchanged", "check-unchanged", "check-full", "host-fresh"]
    lines = [f"Machine: {machine()}. {rounds} interleaved rounds; medians in ms, peak RSS in MiB.", ""]
    if b.loads:
        lines += [f"Load average (1 min) during the run: {min(b.loads):.1f} to {max(b.loads):.1f} on {os.cpu_count()} cores"
                  + (" — the machine was shared with other builds, which slows every figure; the ratios, measured interleaved, move less." if max(b.loads) > os.cpu_count() else "."), ""]
    lines.append("| | " + " | ".join(f"N = {n}" for n in sizes) + " | peak RSS (largest N) |")
    lines.append("| --- |" + " --- |" * (len(sizes) + 1))
    for k in kinds:
        cells = [f"{b.median((n, k)):.1f}" if (n, k) in b.times else "" for n in sizes]
        largest = max((n for n in sizes if (n, k) in b.times), default=None)
        mem = f"{b.memory[(largest, k)]:.0f}" if largest else ""
        lines.append(f"| {k} | " + " | ".join(cells) + f" | {mem} |")
    verdicts = []
    if 1000 in sizes:
        base = b.median((1000, "baseline"))
        lines += ["", "Budgets at N = 1000 (ratio to the baseline of the same run):", ""]
        for k, limit in BUDGETS.items():
            if (1000, k) not in b.times:
                continue
            ratio = b.median((1000, k)) / base
            ok = ratio <= limit
            verdicts.append(ok)
            lines.append(f"- {k}: {ratio:.2f}× (budget ≤ {limit}×) {'PASS' if ok else 'FAIL'}")
        mem = b.memory[(1000, "generate-fresh")]
        verdicts.append(mem <= MEMORY_BUDGET_MIB)
        lines.append(f"- generate peak RSS: {mem:.0f} MiB (budget ≤ {MEMORY_BUDGET_MIB} MiB) {'PASS' if mem <= MEMORY_BUDGET_MIB else 'FAIL'}")
    if 1000 in sizes and 5000 in sizes:
        lines += ["", f"Linearity (N = 5000 over N = 1000, budget ≤ {LINEAR}×):", ""]
        for k in kinds[1:6]:
            growth = b.median((5000, k)) / b.median((1000, k))
            verdicts.append(growth <= LINEAR)
            lines.append(f"- {k}: {growth:.2f}× {'PASS' if growth <= LINEAR else 'FAIL'}")
    return "\n".join(lines) + "\n", all(verdicts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--write", help="also write the report to this file")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    prepare(sizes)
    b = Bench()
    # One warm-up round fills the page cache and is not counted.
    b.round(sizes)
    b.times.clear()
    b.memory.clear()
    b.loads.clear()
    for _ in range(args.rounds):
        b.round(sizes)
    text, ok = report(b, sizes, args.rounds)
    print(text)
    if args.write:
        with open(args.write, "w") as f:
            f.write(text)
    shutil.rmtree(b.trash, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
