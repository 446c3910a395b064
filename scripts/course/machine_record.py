"""The grader's machine record (OUT/machine.json, written and signed by scripts/grade): the
machine's ceilings, BLIS and roof figures, measured by processes that load no student code, under
a machine id that every report.json graded there names. The leaderboard trusts a report's
ceilings, BLIS and roof figures only when they agree with a record whose signature verifies, and
takes the fixed benchmark set from the record's BLIS cases.

Every field name the grader and the leaderboard share is here, and only here."""
import hashlib
import math
import os

from . import signing, untrusted_json

# report.json members that are the grader's envelope (signed with the rest of the report)
REPORT_GRADER = "grader"  # {"machine_id", "student", "sandboxed", "graded_at", ...}
REPORT_MACHINE_ID = (REPORT_GRADER, "machine_id")
REPORT_STUDENT = (REPORT_GRADER, "student")  # whom the grader graded
REPORT_DROPPED = (REPORT_GRADER, "rejected")  # [{"name", "reason"}]: kernel rows the grader dropped
SIGNATURE = "signature"  # signing.sign() adds it
ENVELOPE = (REPORT_GRADER, SIGNATURE)

# machine.json: {"kind", "machine_id", "host", "cpu_model", "cores", "isa", "ceilings", "blis",
# "measured_at", "signature"}; "blis" holds rows of kind "blis" and "roof" shaped like report rows
RECORD_FILE = "machine.json"
RECORD_KIND = ("kind", "kernellab-machine")
RECORD_ID = "machine_id"
RECORD_CEILINGS = "ceilings"  # shaped like report.json machine.ceilings
RECORD_FIGURES = "blis"
MACHINE_FIELDS = ("cpu_model", "cores", "isa")  # must match the report's machine exactly

# grade.json beside report.json: the correctness points shown beside the speed
GRADE_FILE = "grade.json"
GRADE_POINTS = ("correctness", "points")
GRADE_MAX_POINTS = ("correctness", "max_points")

SIZE_ORDER = ("m", "n", "k", "rows", "cols", "ws")


def dig(obj, path):
    """obj[path[0]][path[1]]..., or None where a step is missing or not an object."""
    for k in path:
        obj = obj.get(k) if isinstance(obj, dict) else None
    return obj


def case_key(r):
    """(op, ((size key, value), ...), threads): one benchmark case, whatever variant ran it."""
    return (r["op"], tuple(sorted(r["size"].items())), r["threads"])


def case_label(key):
    op, size, threads = key
    s = dict(size)
    return f"{op} " + " ".join(f"{k}:{s[k]}" for k in SIZE_ORDER if k in s) + f" threads:{threads}"


def _positive(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def _row_problem(i, r):
    where = f"{RECORD_FIGURES}[{i}]"
    if not isinstance(r, dict):
        return f"{where} is not an object"
    if r.get("kind", "blis") not in ("blis", "roof"):
        return f"{where}.kind is neither blis nor roof"
    if not all(isinstance(r.get(k), str) for k in ("op", "variant", "metric")):
        return f"{where} lacks op, variant or metric"
    if not isinstance(r.get("size"), dict) or not all(
            isinstance(v, str) if k == "ws" else isinstance(v, int) for k, v in r["size"].items()):
        return f"{where}.size is not a size"
    if not isinstance(r.get("threads"), int) or r["threads"] < 1:
        return f"{where}.threads is not a thread count"
    if r.get("error") is None and (not _positive(r.get("time_s")) or not _positive(r.get("value"))):
        return f"{where} lacks a positive time_s and value"
    return None


def _ceiling_problem(c):
    if not isinstance(c, dict) or not isinstance(c.get("fma"), list) or not isinstance(c.get("copy"), list):
        return f"{RECORD_CEILINGS} lacks its fma and copy lists"
    for name in ("fma", "copy"):
        for x in c[name]:
            value = x.get("gflops" if name == "fma" else "gbps") if isinstance(x, dict) else 0
            if not isinstance(x, dict) or not isinstance(x.get("threads"), int) or not (
                    value is None or _positive(value)):
                return f"{RECORD_CEILINGS}.{name} has a row that is not a ceiling"
    return None


class Record:
    """A verified machine record: id, machine ({cpu_model, cores, isa, ceilings}), blis
    {case_key: row}, roofs {(variant, case_key): row}, path."""

    def __init__(self, obj, path):
        self.id = obj[RECORD_ID]
        self.machine = {k: obj.get(k) for k in (*MACHINE_FIELDS, RECORD_CEILINGS)}
        rows = [r for r in obj[RECORD_FIGURES] if r.get("error") is None]
        self.blis = {case_key(r): r for r in rows if r.get("kind", "blis") == "blis"}
        self.roofs = {(r["variant"], case_key(r)): r for r in rows if r.get("kind") == "roof"}
        self.path = path
        self.digest = hashlib.sha256(signing.canonical(obj)).hexdigest()  # identity of its content

    def describe(self):
        m = self.machine
        return f"{m.get('cpu_model')}, {m.get('cores')} cores, {m.get('isa')}"


def check_record(obj, key):
    """Reason the parsed record cannot be trusted, or None."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    if not signing.verify(obj, key):
        return "its signature does not verify with the grader key" if SIGNATURE in obj else "it is not signed"
    if obj.get(RECORD_KIND[0], RECORD_KIND[1]) != RECORD_KIND[1]:
        return f"{RECORD_KIND[0]} is not {RECORD_KIND[1]}"
    if not isinstance(obj.get(RECORD_ID), str) or not obj[RECORD_ID]:
        return f"no {RECORD_ID}"
    why = _ceiling_problem(obj.get(RECORD_CEILINGS))
    if why:
        return why
    rows = obj.get(RECORD_FIGURES)
    if not isinstance(rows, list) or not rows:
        return f"no {RECORD_FIGURES} figures"
    for i, r in enumerate(rows):
        why = _row_problem(i, r)
        if why:
            return why
    keys = [(r.get("kind", "blis"), r["variant"], case_key(r)) for r in rows]
    if len(set(keys)) != len(keys):
        return f"two {RECORD_FIGURES} figures for one case"
    if not any(k[0] == "blis" for k in keys):
        return "no BLIS figure"
    return None


def candidates(report_paths, explicit):
    """Record files to read: the explicit ones, then machine.json beside each report and one
    folder up (grade writes OUT/machine.json and OUT/<student>/report.json)."""
    out = list(explicit)
    for p in report_paths:
        d = os.path.dirname(os.path.abspath(p))
        for cand in (os.path.join(d, RECORD_FILE), os.path.join(os.path.dirname(d), RECORD_FILE)):
            if os.path.isfile(cand):
                out.append(cand)
    seen, unique = set(), []
    for p in out:
        real = os.path.realpath(p)
        if real not in seen:
            seen.add(real)
            unique.append(p)
    return unique


def load_records(paths, key):
    """({machine_id: Record}, {machine_id or path: reason}) from the record files. Two different
    verified records under one id make that id untrusted; a record that does not verify only
    explains why its claimed id has no record (it cannot unseat a verified one)."""
    good, unverified, conflicts = {}, {}, {}
    for path in paths:
        obj, why = untrusted_json.load(path)
        why = why or check_record(obj, key)
        if why:
            claimed = obj.get(RECORD_ID) if isinstance(obj, dict) else None
            unverified.setdefault(claimed if isinstance(claimed, str) else path, f"machine record {path}: {why}")
            continue
        rec = Record(obj, path)
        if rec.id in good and good[rec.id].digest != rec.digest:
            conflicts[rec.id] = f"two different machine records claim id {rec.id} ({good[rec.id].path}, {path})"
        good.setdefault(rec.id, rec)
    for mid in conflicts:
        del good[mid]
    bad = {mid: why for mid, why in unverified.items() if mid not in good}
    bad.update(conflicts)
    return good, bad
