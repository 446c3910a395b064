"""What the grader measures itself, in processes that load no student code: the instructor
tree built pristine (once per output folder, shared by every grade run into it), the
machine's ceilings and BLIS/memcpy baselines from its kl_bench (OUT/machine.json, signed),
wall-clock timings of one rung through scripts/course/rung_timer.c, and the inputs and
verdicts of the grader's own correctness check (scripts/course/rung_check.c)."""
import datetime
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess

from kl import report as kl_report

from . import CourseError, write_atomic
from . import points, signing

HERE = os.path.dirname(os.path.abspath(__file__))
TIMER_SRC = os.path.join(HERE, "rung_timer.c")
CHECK_SRC = os.path.join(HERE, "rung_check.c")
BASELINE_FILTER = r"^ceiling/|^[a-z_]+/(blis[a-z0-9_]*|memcpy|traffic_[a-z0-9]+)/"
MACHINE_KIND = "kernellab-machine"
# The static libraries the grader programs link, as ninja targets of a build, in link order.
LIBRARIES = ("kernels/libkernellab_ops.a", "kernels/libkernellab.a", "kernels/libkernellab_reference.a")


def tree_hash(files):
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    for src in (TIMER_SRC, CHECK_SRC):
        h.update(open(src, "rb").read())
    return h.hexdigest()[:16]


def program_cmd(build, src, out):
    """Compile a grader program (rung_timer.c, rung_check.c, or a copy of one) against a build's
    static kernellab, its op table and the instructor's oracle (LIBRARIES)."""
    src_root = os.path.dirname(build)
    return ["cc", "-O2", "-fopenmp", "-o", out, src,
            *[arg for sub in ("include", "reference", "ops") for arg in ("-I", os.path.join(src_root, "kernels", sub))],
            *[os.path.join(build, lib) for lib in LIBRARIES], "-lm"]


def _run(cmd, timeout, what, cwd=None):
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CourseError(f"pristine instructor build: {what} timed out") from None
    if r.returncode != 0:
        tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-8:])
        raise CourseError(f"pristine instructor build: {what} failed:\n{tail}")
    return r


class Pristine:
    """The instructor tree built without any student code, under OUT/.grader/<hash>/."""

    def __init__(self, out, files, log):
        self.key = tree_hash(files)
        self.root = os.path.join(os.path.abspath(out), ".grader", self.key)
        self.src = os.path.join(self.root, "src")
        self.build = os.path.join(self.src, "build")
        self.timer = os.path.join(self.build, "rung_timer")
        self.check = os.path.join(self.build, "rung_check")
        self._rungs = None
        os.makedirs(self.root, exist_ok=True)
        os.chmod(os.path.dirname(self.root), 0o700)  # it holds the solutions and hidden tests
        with open(os.path.join(self.root, "lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent grade runs (Slurm tasks) build it once
            if not os.path.exists(os.path.join(self.root, "ready")):
                log("building the pristine instructor tree (trusted baselines and timings)")
                shutil.rmtree(self.src, ignore_errors=True)
                for rel, data in files.items():
                    p = os.path.join(self.src, rel)
                    os.makedirs(os.path.dirname(p), exist_ok=True)
                    with open(p, "wb") as f:
                        f.write(data)
                    if data.startswith(b"#!"):
                        os.chmod(p, 0o755)
                _run(["meson", "setup", self.build, self.src, "--buildtype=release", "-Dbench=enabled"],
                     600, "meson setup")
                _run(["ninja", "-C", self.build, *LIBRARIES], 1800, "ninja")
                _run(program_cmd(self.build, TIMER_SRC, self.timer), 300, "rung_timer")
                _run(program_cmd(self.build, CHECK_SRC, self.check), 300, "rung_check")
                open(os.path.join(self.root, "ready"), "w").close()


    def rungs(self):
        """{(op, variant): threaded} of the rungs rung_check can check that this CPU and the
        instructor's build run (the registry's own answer, from the pristine build)."""
        if self._rungs is None:
            r = _run([self.check, "list"], 60, "rung_check list")
            self._rungs = {(op, v): t == "1" for op, v, t in (ln.split() for ln in r.stdout.splitlines())}
        return self._rungs


def machine_id(host, cpu_model, cores, isa):
    return hashlib.sha256(f"{host}|{cpu_model}|{cores}|{isa}".encode()).hexdigest()[:16]


def machine_record(out, pristine, key, log):
    """OUT/machine.json: measured once per output folder and instructor tree, signed. Returns
    (record, trusted bench.json dict)."""
    path = os.path.join(os.path.abspath(out), "machine.json")
    bench_path = os.path.join(pristine.root, "baselines.json")
    with open(os.path.join(pristine.root, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(path) and os.path.exists(bench_path):
            with open(path) as f:
                rec = json.load(f)
            if signing.verify(rec, key) and rec.get("host") == platform.node() and \
                    rec.get("instructor_tree") == pristine.key:
                with open(bench_path) as f:
                    return rec, json.load(f)
        log("measuring the machine: ceilings and BLIS/memcpy baselines (pristine kl_bench)")
        _run(["ninja", "-C", pristine.build, "harness/kl_bench"], 1800, "ninja harness/kl_bench")
        tmp = bench_path + ".tmp"
        _run([os.path.join(pristine.build, "harness", "kl_bench"), "--kl_set=quick",
              f"--benchmark_filter={BASELINE_FILTER}", f"--benchmark_out={tmp}", "--benchmark_out_format=json"],
             1800, "kl_bench (baselines)", cwd=pristine.src)
        with open(tmp) as f:
            bench = json.load(f)
        os.replace(tmp, bench_path)
        rep = report_from(bench)
        m = rep["machine"]
        host = platform.node()
        rec = {"kind": MACHINE_KIND, "machine_id": machine_id(host, m["cpu_model"], m["cores"], m["isa"]),
               "host": host, "cpu_model": m["cpu_model"], "cores": m["cores"], "isa": m["isa"],
               "cpu_flags": sorted(points.cpu_flags() & {f for fs in points.ISA_FLAGS.values() for f in fs}),
               "ceilings": m["ceilings"],
               "blis": [r for r in rep["results"] if r["kind"] in ("blis", "roof")],
               "measured_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "instructor_tree": pristine.key}
        rec = signing.sign(rec, key)
        write_atomic(path, json.dumps(rec, indent=1) + "\n")
        return rec, bench


def report_from(bench):
    """report.json (a dict) from a bench.json dict, by kl.report: the grader's own copy, the
    instructor's tree at the same revision as the pristine one."""
    return kl_report.build_report(bench, None)


def merge_bench(trusted, student_bench):
    """A bench.json dict: the trusted run's context, ceilings and baselines, plus the
    student's benchmarks of registered kernel variants (nothing else of theirs)."""
    ctx = trusted["context"]
    kernels = {tuple(k.split("/")[1:3]) for k in ctx if k.startswith("kl_variant/")}
    out = []
    for b in student_bench.get("benchmarks", []) if isinstance(student_bench, dict) else []:
        if not isinstance(b, dict) or not isinstance(b.get("name"), str):
            continue
        parts = b["name"].split("/")
        if len(parts) > 2 and (parts[0], parts[1]) in kernels and \
                all(BENCH_NAME.match(str(b.get(k, ""))) for k in ("name", "run_name")):
            # Only numbers and fixed words pass: no text of the student's reaches report.json
            # (a kernel could print hidden tests into an error message or a name).
            row = {k: v for k, v in b.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            row.update({k: b[k] for k in ("name", "run_name") if k in b})
            row.update({k: b[k] for k in ("run_type", "aggregate_name", "time_unit") if b.get(k) in BENCH_WORDS})
            if b.get("error_occurred") is True:
                row.update(error_occurred=True, error_message="the benchmark's check failed")
            out.append(row)
    return {"context": ctx, "benchmarks": list(trusted["benchmarks"]) + out}


# A kernel benchmark's name: op/variant/key:number-or-level/.../threads:N[/real_time][_aggregate].
BENCH_NAME = re.compile(r"^[a-z0-9_]+/[a-z0-9_]+(?:/[a-z_]+:(?:\d+|L1|L2|L3|DRAM|scalar|avx2|avx512))*"
                        r"(?:/real_time)?(?:_(?:mean|median|stddev|cv|max|min))?$")
BENCH_WORDS = {"iteration", "aggregate", "mean", "median", "stddev", "cv", "max", "min", "ns", "us", "ms", "s"}


FAILED = {3: "wrong result", 4: "the rung returned an error"}


def zero_call_limit(run_timer, op, variant, dims, threads):
    """The most CPU seconds a student's 0-call timer run may take beside its one call: twice
    the instructor's (median of 3; one call and one oracle check), run by run_timer in the
    same sandbox as the student's (so bwrap's cost, which differs between machines, is in
    both), plus 10 ms of noise. A kernel that makes the 0-call run slow (so REPS calls look
    cheap) is refused by observe()."""
    args = [op, variant, *map(str, dims), str(threads), "0"]
    return 2 * statistics.median(run_timer(args)[1] for _ in range(3)) + 0.01


def observe(run_timer, op, variant, dims, threads, budget=0.15, max_reps=1 << 20, zero_call_limit=None):
    """Seconds per call of one rung, from the CPU time the kernel accounted to whole
    processes (what a loaded, shared machine disturbs least, and nothing inside can rewrite):
    median over 5 of (time of REPS calls) - (time of 0 calls), divided by REPS; REPS grows
    until the calls take `budget` seconds. run_timer(args) -> (returncode, seconds).
    (None, why) on failure, which includes REPS calls costing no more than 0 calls, and a
    0-call run slower than zero_call_limit seconds (see zero_call_limit())."""
    args = lambda reps: [op, variant, *map(str, dims), str(threads), str(reps)]  # noqa: E731
    rc, _ = run_timer(args(0))
    if rc != 0:
        return None, FAILED.get(rc, f"timer exit {rc}")
    reps = 1
    while True:
        base = min(run_timer(args(0))[1] for _ in range(2))
        rc, t = run_timer(args(reps))
        if rc != 0:
            return None, FAILED.get(rc, f"timer exit {rc}")
        if t - base >= budget or reps >= max_reps:
            break
        reps = min(max_reps, reps * max(2, int(budget / max(t - base, 1e-4))))
    samples, bases = [], []
    for _ in range(5):  # interleaved: the machine's load changes both alike
        rc0, b = run_timer(args(0))
        rc, t = run_timer(args(reps))
        if rc != 0 or rc0 != 0:
            return None, "failed on a repeat run: " + FAILED.get(rc or rc0, f"timer exit {rc or rc0}")
        if t - b <= 0:
            return None, f"{reps} calls took no more CPU time than 0 calls ({t:.3g} s vs {b:.3g} s)"
        samples.append((t - b) / reps)
        bases.append(b)
    per_call = statistics.median(samples)
    if zero_call_limit is not None and statistics.median(bases) - per_call > zero_call_limit:
        return None, (f"the 0-call run took {statistics.median(bases):.3g} s, more than its one call "
                      f"plus the {zero_call_limit:.3g} s the instructor's run allows")
    return per_call, None


def timed(cmd_prefix):
    """A run_timer for observe(): a plain subprocess (trusted, pristine code only)."""
    def run(args):
        p = subprocess.Popen(cmd_prefix + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        return p.returncode, usage.ru_utime + usage.ru_stime
    return run


def size_key(op, dims):
    """The report's size dict for a race size."""
    d0, d1, d2 = dims
    return {"matmul": {"m": d0, "n": d1, "k": d2}, "relu": {"n": d0},
            "layernorm": {"rows": d0, "cols": d1}}.get(op, {})


def size_matches(row_size, want):
    return all(row_size.get(k) == v for k, v in want.items())


SAFE_NAME = re.compile(r"[^A-Za-z0-9_.:/-]")
