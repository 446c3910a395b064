"""The grader's own correctness check of the rungs a lesson reported passed. A lesson's verdicts
come from the process that runs the student's kernels, so a kernel can write a forged result
and exit. This check's verdict never comes from such a process: for each case the pristine
instructor build (scripts/course/rung_check.c, trusted) writes random inputs, a worker linked
with the student's kernels turns them into output bytes in the sandbox, and the pristine build
holds those bytes to the float64 oracle, against the grader's own copy of the inputs."""
import os
import secrets
import subprocess

from . import CourseError

# Awkward shapes per op (D0, D1, D2: the op table's dims, in its order): sizes of 1, odd edges,
# tails past every vector width and tile edge, a matmul k not a multiple of the unroll. A rung
# of an op not listed here is not checked.
MATMUL_CASES = [(1, 1, 1), (7, 13, 5), (33, 17, 65), (64, 96, 80)]
CASES = {
    "matmul": MATMUL_CASES,
    "linear_relu": MATMUL_CASES,
    "matmul_t": MATMUL_CASES,
    "relu": [(1, 0, 0), (13, 0, 0), (4099, 0, 0)],
    # x + y past L2 (3.7 and 3.3 MB): 600 x 768 rows go one at a time, 200 x 2053 in blocks
    # (a row with gamma and beta is past half of L1, 48 KiB ones too); y (1.8 and 1.6 MB) stays
    # under sandbox.MAX_OUTPUT, the bytes kept of the worker's results
    "layernorm": [(1, 1, 0), (3, 17, 0), (5, 1000, 0), (600, 768, 0), (200, 2053, 0)],
}
THREADED = 2  # threads for a rung that runs a team (the registry's `threaded`)
# grade_ids that test other rungs than their words say (test_<op>_<variant> otherwise): each
# rung listed that this CPU runs is checked.
ALIASES = {"test_relu_fused": (("linear_relu", "fused"),),
           "test_matmul_t_packed": tuple(("matmul_t", v) for v in ("avx2", "avx512", "openmp"))}
WORKER_INSIDE = "/kl-rung_check"  # where the sandbox sees the worker and the case's inputs
INPUTS_INSIDE = "/kl-rung_check_inputs"


def rungs_to_check(items, rungs):
    """[(key, op, variant)] of the items a lesson reported passed whose grade_id tests a rung
    this check knows: test_<op>_<variant> for a rung in rungs ({(op, variant): threaded}, from
    the pristine build: only rungs this CPU runs) of an op with CASES, or the rungs of an alias
    (one entry per rung, same key). Items of the speed races and n/a items (a rung this CPU
    lacks) are not "passed" lesson results."""
    out = []
    for key, item in items.items():
        gid = item.get("grade_id", "")
        if item.get("status") != "passed" or not gid.startswith("test_"):
            continue
        tested = ALIASES.get(gid) or [r for r in rungs if gid == f"test_{r[0]}_{r[1]}"]
        out += [(key, *r) for r in tested if r in rungs and r[0] in CASES]
    return out


def case_name(op, dims):
    d0, d1, d2 = dims
    return {"relu": f"n={d0}", "layernorm": f"{d0}x{d1}"}.get(op, f"{d0}x{d1}x{d2}")


def check_rung(op, variant, threads, run_worker, trusted_bin, tmp, describe_exit, timeout=20):
    """None when every case of op/variant matches the oracle, else the fixed reason of the first
    that does not. run_worker(argv, readonly, timeout) runs the worker in the sandbox with the
    result pipe and returns its sandbox.Result; trusted_bin is the pristine rung_check."""
    def trusted(args):
        try:
            return subprocess.run([trusted_bin] + args, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            raise CourseError(f"rung_check {args[0]} timed out (the instructor's own build)") from None
    inputs, outputs = os.path.join(tmp, "rung_check_inputs"), os.path.join(tmp, "rung_check_outputs")
    for dims in CASES[op]:
        size = [str(d) for d in dims]
        g = trusted(["gen", op, *size, str(secrets.randbits(63)), inputs])
        if g.returncode != 0:
            raise CourseError(f"rung_check gen {op} {' '.join(size)} failed (exit {g.returncode})")
        os.chmod(inputs, 0o644)  # the sandbox's uid reads it through a read-only bind
        r = run_worker([WORKER_INSIDE, "run", op, variant, *size, str(threads), INPUTS_INSIDE, "{RESULT_FD}"],
                       {INPUTS_INSIDE: inputs}, timeout)
        if r.timed_out:
            why = f"no result after {timeout} s"
        elif r.returncode == 4:
            why = "the rung returned an error"
        elif r.returncode != 0:
            why = "the worker " + ("crashed" if r.returncode < 0 or r.returncode > 128 else "failed") + \
                  f" ({describe_exit(r.returncode)})"
        elif len(r.results or b"") != int(g.stdout):
            why = "an output of the wrong size"
        else:
            with open(outputs, "wb") as f:
                f.write(r.results)
            c = trusted(["check", op, *size, inputs, outputs])
            if c.returncode not in (0, 3):
                raise CourseError(f"rung_check check {op} {' '.join(size)} failed (exit {c.returncode})")
            why = "wrong result" if c.returncode == 3 else None
        if why:
            return f"the grader's own check of {op}/{variant} failed at {case_name(op, dims)} ({why})"
    return None


def apply(items, checked, refuted):
    """Zero what the grader's check refuted ({key: reason}; checked: every key it checked), and
    in each lesson with a refuted pass every other passed item the check does not cover: that
    lesson's result object lied once, so its other claims are not believed. Rungs the check
    confirmed keep their points. Returns {module: problem} for the lessons it changed."""
    problems = {}
    for key, why in refuted.items():
        items[key].update(points=0, status="failed", reason=why)
        module = items[key]["module"]
        problems[module] = (f"lesson {module}: it reported passed a test the grader's own check refuted; "
                            "only the rungs that check confirmed count")
    for key, item in items.items():
        if item["module"] in problems and item.get("status") == "passed" and key not in checked:
            item.update(points=0, status="failed",
                        reason="not believed: the lesson's results claimed a pass the grader's own check refuted")
    return problems
