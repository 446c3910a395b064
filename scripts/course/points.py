"""Where points come from: the instructor's test tables (never the student's), the grading
CPU's instruction sets (a rung it cannot run is "n/a"), and the speed rules (a SIMD or
threaded rung earns its speed point only by beating the instructor's scalar rung, timed by
the grader in the same run)."""
import json
import os
import re

# grade_id words that name a rung needing an instruction set, and the CPU flags it needs
# (kernels/cpu.c's rule: AVX2 with FMA; AVX-512 F, BW, DQ, VL).
ISA_FLAGS = {"avx2": {"avx2", "fma"}, "avx512": {"avx512f", "avx512bw", "avx512dq", "avx512vl"}}

# The speed rules: op -> (stated size D0 D1 D2, the instructor's scalar rung it is raced
# against, the rungs that must beat it, by this factor). The naive rungs are scalar code:
# matmul's and LayerNorm's are led by float reductions, which the compiler keeps in order
# (scalar), and ReLU's naive.c is built without the vectorizer (kernels/meson.build). On a Zen 4 the AVX2 ReLU
# measured 13x the naive one at n = 4096, and a rung that calls the scalar one 1.0x.
# Sizes are in the quick benchmark set, so the grader's timing there also checks the
# report's figure. --speedup-factor replaces every factor.
SPEED_RACES = {
    "matmul": ((128, 128, 128), "naive", ("avx2", "avx512", "openmp"), 2.0),
    "relu": ((4096, 0, 0), "naive", ("avx2", "avx512"), 2.0),
    "layernorm": ((256, 1024, 0), "naive", ("avx2", "avx512", "openmp"), 2.0),
}
SPEED_POINTS = 1
SPEED_MODULE = "speed"

TABLE_RE = re.compile(r"kl_lesson_test\s+tests\s*\[\s*\]\s*=\s*\{(.*?)\};", re.S)
ENTRY_RE = re.compile(r'\{\s*"(\w+)"\s*,\s*(\d+)\s*,\s*\w+\s*\}')
MODULE_RE = re.compile(r'kl_lesson_main\s*\(\s*\w+\s*,\s*\w+\s*,\s*"(\w+)"')


def lesson_table(text, rel):
    """(module, [(grade_id, points)]) from an instructor lesson's tests[] and its
    kl_lesson_main call; ValueError when the lesson has neither."""
    t, m = TABLE_RE.search(text), MODULE_RE.search(text)
    if not t or not m:
        raise ValueError(f"{rel}: no kl_lesson_test tests[] table or kl_lesson_main call")
    return m.group(1), [(g, int(p)) for g, p in ENTRY_RE.findall(t.group(1))]


def cpu_flags(path="/proc/cpuinfo"):
    """The grading CPU's flags, read by the grader (never by student code).
    KL_GRADE_CPU_FLAGS (space-separated) pretends to be a smaller CPU, for tests."""
    if os.environ.get("KL_GRADE_CPU_FLAGS") is not None:
        return set(os.environ["KL_GRADE_CPU_FLAGS"].split())
    with open(path) as f:
        for ln in f:
            if ln.startswith("flags"):
                return set(ln.split(":", 1)[1].split())
    return set()


def isa_of(grade_id):
    """The instruction set a test's rung needs, from its grade_id words, or None."""
    words = set(grade_id.split("_"))
    return next((isa for isa in ("avx512", "avx2") if isa in words), None)


def runnable(isa, flags):
    return isa is None or ISA_FLAGS[isa] <= flags


def best_isa(flags):
    return next((isa for isa in ("avx512", "avx2") if ISA_FLAGS[isa] <= flags), "scalar")


def parse_results(raw, module, limit=1 << 20):
    """{grade_id: passed} from a lesson's --json bytes, or (None, why) for anything
    malformed: the lesson gets zero for this step, the batch goes on."""
    if raw is None or not raw.strip():
        return None, "wrote no results"
    if len(raw) > limit:
        return None, f"results larger than {limit} bytes"
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        return None, f"results are not JSON ({type(e).__name__})"
    if not isinstance(obj, dict) or obj.get("module") != module or not isinstance(obj.get("tests"), list):
        return None, f"results are not a {module} lesson's result object"
    out = {}
    for x in obj["tests"]:
        if not (isinstance(x, dict) and isinstance(x.get("grade_id"), str) and isinstance(x.get("passed"), bool)):
            return None, "a result entry without a string grade_id and a boolean passed"
        if x["grade_id"] in out:
            return None, "a grade_id reported twice"  # its text is the student's: never quoted
        out[x["grade_id"]] = x["passed"]
    return out, None
