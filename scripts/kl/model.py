"""What a benchmark means, for every script: the op table kl_bench records in bench.json (its
dims, rate, BLIS baseline and copy roof per op), the work of one call, and the one ceiling rule.
Imports nothing of the report or course tools (they import it)."""

# What kl_bench records of each op from the C op table (bench.json context "kl_op/<op>"): its
# dims, its rate (GFLOPS ops are held to the FMA peak, GBps ones to the copy ceilings), its BLIS
# baseline (same size, same threads) and whether a same-run memcpy of its bytes is timed.
# LEGACY_OPS stands in for bench.json files written before kl_bench recorded them.
LEGACY_OPS = {
    "matmul": {"dims": ["m", "n", "k"], "rate": "GFLOPS", "blis": "blis", "copy": False},
    "relu": {"dims": ["n"], "rate": "GBps", "blis": "blis_copyv", "copy": True},
    "layernorm": {"dims": ["rows", "cols"], "rate": "GBps", "blis": "blis_l1", "copy": True},
    "linear_relu": {"dims": ["m", "n", "k"], "rate": "GFLOPS", "blis": "blis_relu", "copy": False},
}


def op_table(ctx):
    """{op: {"dims", "rate", "blis", "copy"}} from bench.json's context (LEGACY_OPS without)."""
    ops = {}
    for key, val in sorted(ctx.items()):
        if key.startswith("kl_op/"):
            kv = dict(part.split("=", 1) for part in val.split(";") if "=" in part)
            ops[key[len("kl_op/"):]] = {"dims": [d for d in kv.get("dims", "").split(",") if d],
                                        "rate": kv.get("rate", "GBps"), "blis": kv.get("blis", ""),
                                        "copy": kv.get("copy") == "memcpy"}
    return ops or {op: dict(facts) for op, facts in LEGACY_OPS.items()}


def ops_of(report):
    """The op table a report was built with (older reports: LEGACY_OPS)."""
    return report.get("ops") or LEGACY_OPS


def flop_op(ops, op):
    return ops[op]["rate"] == "GFLOPS"


def modelled_work(r):
    """(flops, bytes) of one call of result r by the models the scripts hold of LEGACY_OPS (the C
    op table's, kernels/<op>/<op>_op.c): for reports written before kl_bench recorded them, and
    for the grader, which never takes a report's own figures. (None, None) for another op or a
    size without the op's dims."""
    s, op = r["size"], r["op"]
    if op not in LEGACY_OPS or not all(d in s for d in LEGACY_OPS[op]["dims"]):
        return None, None
    if op in ("matmul", "linear_relu"):  # linear_relu also reads bias[n]
        m, n, k = s["m"], s["n"], s["k"]
        return 2 * m * n * k, 4 * (m * k + k * n + m * n + (n if op == "linear_relu" else 0))
    if op == "relu":
        return s["n"], 8 * s["n"]
    rows, cols = s["rows"], s["cols"]  # layernorm: x, y; gamma, beta; mean, rstd
    return 8 * rows * cols, 4 * (2 * rows * cols + 2 * cols + 2 * rows)


def work(r):
    """(flops, bytes) of one call: from the report (kl_bench's op table), else modelled_work."""
    if r.get("flops") is not None and r.get("bytes") is not None:
        return r["flops"], r["bytes"]
    return modelled_work(r)


def bytes_per_call(r):
    return work(r)[1]


def intensity(r):
    flops, moved = work(r)
    return flops / moved if flops is not None and moved else None


# The ceiling rule. The ceiling of a result is the machine's best measured figure for it in the
# same run: GFLOP/s ops the FMA peak of the best ISA at the same thread count; GB/s ops the
# faster way of moving bytes (vector copy loop or memcpy) at the cache level their data fit in,
# at the same thread count. A figure may sit above its ceiling by CEILING_TOLERANCE (measurement
# noise) before it is not believed: report.py then says the run was noisy, and the grader
# (course/scoring.py) rejects the report.
CEILING_TOLERANCE = 0.10

# The FMA-peak loop touches no memory, so on idle cores its rate grows with the threads. An ISA
# whose peak at some thread count stays below THREAD_SCALING_MIN x threads x its 1-thread peak
# was measured with a core busy elsewhere (or two threads on one core): the run's multi-threaded
# figures, and the targets measured at them, may understate the kernels.
THREAD_SCALING_MIN = 0.75


def thread_scaling_note(report):
    """A sentence naming each (ISA, threads > 1) whose FMA peak did not scale
    (THREAD_SCALING_MIN), or None when all did (or no 1-thread peak was measured)."""
    peak = {(c["isa"], c["threads"]): c["gflops"] for c in report["machine"]["ceilings"]["fma"] if c.get("gflops")}
    low = [(isa, t, p / peak[isa, 1]) for (isa, t), p in sorted(peak.items())
           if t > 1 and (isa, 1) in peak and p < THREAD_SCALING_MIN * t * peak[isa, 1]]
    if not low:
        return None
    said = "; ".join(f"the {isa} FMA peak on {t} threads reached {x:.2f}x its 1-thread figure, not about {t}x"
                     for isa, t, x in low)
    threads = sorted({t for _, t, _ in low})
    return (f"{said[0].upper()}{said[1:]}. Another program held a core while this run measured (or the "
            f"threads shared one core): figures and targets at {' and '.join(map(str, threads))} threads may "
            f"understate the kernels; rerun those on an idle machine.")


def measured_ceiling(ceilings, flops, threads, ws):
    """The ceiling row that applies (report.machine.ceilings' "fma" or "copy" row), or None."""
    if flops:
        rows = [x for x in ceilings["fma"] if x.get("threads") == threads and x.get("gflops")]
        return max(rows, key=lambda x: x["gflops"], default=None)
    rows = [x for x in ceilings["copy"]
            if x.get("threads") == threads and x.get("level") == ws and x.get("gbps")]
    return max(rows, key=lambda x: x["gbps"], default=None)
