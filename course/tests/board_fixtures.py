"""Inputs for the leaderboard tests: a test grader key, the honest report
(fixtures/reports/good.json) signed with it, the grader's signed machine record for it, and a
folder laid out the way scripts/grade writes one (OUT/machine.json, OUT/<name>/report.json)."""
import copy
import json
import os
import secrets
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures", "reports")
LEADERBOARD = os.path.join(ROOT, "scripts", "leaderboard")
MACHINE_ID = "test-machine"

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from course import machine_record as mr  # noqa: E402
from course import signing  # noqa: E402


def honest():
    with open(os.path.join(FIXTURES, "good.json"), encoding="utf-8") as f:
        return json.load(f)


def new_key(folder, name="grader.key"):
    """(path, key bytes) of a fresh key file."""
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path, signing.load_key(path)


def record_for(report, key, machine_id=MACHINE_ID):
    """The machine record the grader would have signed for the run behind `report`."""
    m = report["machine"]
    figures = [copy.deepcopy(r) for r in report["results"] if r["kind"] in ("blis", "roof")]
    return signing.sign({mr.RECORD_KIND[0]: mr.RECORD_KIND[1], mr.RECORD_ID: machine_id, "host": "test",
                         **{k: copy.deepcopy(m[k]) for k in mr.MACHINE_FIELDS},
                         mr.RECORD_CEILINGS: copy.deepcopy(m["ceilings"]), mr.RECORD_FIGURES: figures}, key)


def signed(report, key, student=None, machine_id=MACHINE_ID):
    """`report` as the grader signs it, naming its machine record and (optionally) its student."""
    r = copy.deepcopy(report)
    for path, value in ((mr.REPORT_MACHINE_ID, machine_id), (mr.REPORT_STUDENT, student)):
        if value is not None:
            r.setdefault(path[0], {})[path[1]] = value
    return signing.sign(r, key)


def write(path, content):
    """content: an object (written as JSON, NaN refused) or text written as is."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(content if isinstance(content, str) else json.dumps(content, indent=1, allow_nan=False))
    return path


def result(report, op, kind, variant=None):
    """The first result of that op and kind (and variant)."""
    return next(r for r in report["results"]
                if r["op"] == op and r["kind"] == kind and (variant is None or r["variant"] == variant))
