"""scripts/grade --slurm: grade a class as one Slurm array job, one task per submission.

Each task runs the local one-student grade (`scripts/grade --out STAGE SUB` with the same
options) on its node, then moves that student's files into OUT/<name>/, grade.json last, so a
grade.json in OUT is always complete. The submitting grade polls scontrol (no accounting
database needed) until every task has ended. A task that fails, hits its time limit or is
cancelled gives its student a zero grade.json whose reason is the Slurm state, with a "slurm"
member {"job", "state", "exit_code"}; the other tasks go on. Task logs: OUT/.slurm/<id>/<name>.log.

Everything a task touches (this repo, the submissions, OUT) must be on a filesystem that every
node sees at the same path."""
import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time

from . import ROOT, CourseError, write_atomic
from . import signing

DEFAULT_STATE = "/tmp/kernellab-slurm"  # scripts/cluster's state folder (STATE/slurm.conf)
SLURM_OPTIONS = {"slurm", "partition", "time", "resume"}  # grade's own, not passed to tasks
ACTIVE = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD",
          "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD"}
POLL_SECONDS, POLL_SLOW = 0.5, 2.0  # scontrol every 0.5 s for the first minute, then every 2 s
SCONTROL_PATIENCE = 300  # seconds of failing scontrol calls before grade gives up waiting

TASK_SCRIPT = """#!/bin/bash
# One array task of `scripts/grade --slurm`: grade one student on this node, then move the
# results into the shared output folder (grade.json last: its presence means complete).
# Files grade keeps at the top of its --out and reuses (a signed record of the machine) are
# kept per node, so each node measures itself once, as the local mode does per folder.
set -u
students=({students})
names=({names})
i=$SLURM_ARRAY_TASK_ID
stage={stage}/task-$i
node_files={out}/.slurm/nodes/${{SLURMD_NODENAME:-$(hostname -s)}}
dest={out}/${{names[$i]}}
rm -rf "$stage"
mkdir -p "$stage" "$node_files" "$dest" || exit 1
find "$node_files" -maxdepth 1 -type f ! -name '.*' -exec cp -p {{}} "$stage"/ \;
{grade} --out "$stage" {options} -- "${{students[$i]}}"
rc=$?
src=$(find "$stage" -mindepth 2 -maxdepth 2 -name grade.json -printf '%h\\n' | head -n 1)
[ -n "$src" ] || {{ echo "grade wrote no grade.json (exit $rc)" >&2; exit $(( rc ? rc : 1 )); }}
for f in "$stage"/*; do  # top-level files: for this node's next task, beside the student, in OUT
  [ -f "$f" ] || continue
  b=${{f##*/}}
  cp -p "$f" "$node_files/.$b.$i" && mv -f "$node_files/.$b.$i" "$node_files/$b" &&
    cp -p "$f" "$dest/.$b.$i" && mv -f "$dest/.$b.$i" "$dest/$b" && mv -f "$f" {out}/"$b" || exit 1
done
for f in "$src"/*; do
  [ "$f" = "$src/grade.json" ] && continue
  rm -rf "$dest/${{f##*/}}" && mv -f "$f" "$dest/" || exit 1
done
mv -f "$src/grade.json" "$dest/grade.json" || exit 1
rm -rf "$stage"
exit 0
"""


def log(name, msg):
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {msg}", flush=True)


def slurm_env():
    """The environment for Slurm's commands: SLURM_CONF as set, else the system's config, else
    the one-node cluster of scripts/cluster."""
    env = dict(os.environ)
    state = env.get("KL_SLURM_STATE") or DEFAULT_STATE
    if "SLURM_CONF" not in env and not os.path.exists("/etc/slurm/slurm.conf") \
            and os.path.exists(os.path.join(state, "slurm.conf")):
        env["SLURM_CONF"] = os.path.join(state, "slurm.conf")
    if not shutil.which("sbatch"):
        raise CourseError("--slurm: sbatch not found (Debian: slurm-client; scripts/deps.sh --install)")
    return env


def task_options(parser, args):
    """grade's command-line options as given (those that differ from their defaults), minus the
    students, --out and the Slurm options: what each task's local grade gets."""
    out = []
    for a in parser._actions:
        if not a.option_strings or a.dest in SLURM_OPTIONS | {"out", "help"}:
            continue
        v = getattr(args, a.dest, a.default)
        if v == a.default:
            continue
        if isinstance(a, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            out.append(a.option_strings[-1])
        else:
            for x in (v if isinstance(v, list) else [v]):
                out += [a.option_strings[-1], str(x)]
    return out


def complete_grade(path, key_path):
    """The grade.json in folder path when it is a finished grade whose signed files verify, else
    None (with the reason as second value). A zero written for a failed Slurm task is not a result."""
    try:
        with open(os.path.join(path, "grade.json"), encoding="utf-8") as f:
            g = json.load(f)
    except (OSError, ValueError):
        return None, "no readable grade.json"
    if not isinstance(g, dict) or g.get("status") not in ("graded", "zero", "refused") or "slurm" in g \
            or not isinstance(g.get("correctness"), dict) or "points" not in g["correctness"]:
        return None, "grade.json is incomplete or from a failed Slurm task"
    if g.get("report") and not os.path.isfile(os.path.join(path, g["report"])):
        return None, f"{g['report']} is missing"
    signed = []  # every signed JSON file beside it: grade.json, report.json, machine.json, ...
    for f in sorted(os.listdir(path)):
        if f.endswith(".json"):
            try:
                with open(os.path.join(path, f), encoding="utf-8") as fh:
                    obj = json.load(fh)
            except (OSError, ValueError):
                return None, f"{f} is unreadable"
            if isinstance(obj, dict) and "signature" in obj:
                signed.append(obj)
    if signed:
        try:
            key = signing.load_key(key_path)
        except CourseError as e:
            return None, str(e)
        if not all(signing.verify(x, key) for x in signed):
            return None, "signature does not verify"
    return g, None


def describe_exit_code(code):
    """Slurm's ExitCode "status:signal" in words."""
    status, _, sig = (code or "").partition(":")
    return f"killed by signal {sig}" if sig not in ("", "0") else f"exit {status or '?'}"


def zero_grade(name, student, task, started, ended):
    state, code, node = task["state"], task.get("exit_code", ""), task.get("node")
    why = {"TIMEOUT": "hit its Slurm time limit", "CANCELLED": "was cancelled",
           "FAILED": f"failed ({describe_exit_code(code)})", "NODE_FAIL": "lost its node",
           "OUT_OF_MEMORY": "ran out of memory", "GONE": "left the queue without running (cancelled?)"}
    reason = f"Slurm task {state}: the grading task {why.get(state, 'ended without a grade')}"
    return {"student": name, "tree": os.path.abspath(student), "status": "zero", "reason": reason,
            "points": {}, "correctness": {"points": 0, "max_points": 0, "tests_passed": 0, "tests_failed": 0},
            "performance": {"score": None}, "report": None, "node": node,
            "slurm": {"job": task["id"], "state": state, "exit_code": code},
            "seconds": round(max(0.0, (ended or time.time()) - (started or time.time())), 1)}


def parse_ids(text):
    """Slurm's task list "0-3,5,7-9%2" -> {0, 1, 2, 3, 5, 7, 8, 9}."""
    ids = set()
    for part in text.split("%")[0].split(","):
        if re.fullmatch(r"\d+(-\d+)?", part):
            lo, _, hi = part.partition("-")
            ids.update(range(int(lo), int(hi or lo) + 1))
    return ids


def job_tasks(job, env):
    """{task id: {"state", "exit_code", "node"}} for the array tasks scontrol still knows."""
    r = subprocess.run(["scontrol", "show", "job", "-o", job], env=env, capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        if "Invalid job id" in r.stderr:
            return {}
        raise CourseError(f"scontrol show job {job}: {r.stderr.strip()}")
    tasks = {}
    for line in r.stdout.splitlines():
        f = dict(re.findall(r"(?:^| )(ArrayTaskId|JobState|ExitCode|BatchHost|NodeList)=(\S*)", line))
        for i in parse_ids(f.get("ArrayTaskId", "")):
            node = f.get("BatchHost") or f.get("NodeList")
            tasks[i] = {"id": f"{job}_{i}", "state": f.get("JobState", "UNKNOWN"),
                        "exit_code": f.get("ExitCode", ""), "node": None if node in (None, "(null)") else node}
    return tasks


def grade_class(parser, args, students, names):
    """Grade students[i] as names[i] through Slurm; the grade.json dicts, in order."""
    out = os.path.abspath(args.out)
    key_path = getattr(args, "key", None)
    results, todo = {}, []
    for i, name in enumerate(names):
        g, why = complete_grade(os.path.join(out, name), key_path) if args.resume else (None, None)
        if g:
            log(name, f"--resume: keeping its verified grade ({g['status']})")
            results[i] = g
        else:
            if args.resume:
                log(name, f"--resume: grading again ({why})")
            todo.append(i)
    if todo:
        results.update(run_array(parser, args, out, [students[i] for i in todo], [names[i] for i in todo],
                                 todo))
    return [results[i] for i in range(len(names))]


def interrupted(signum, frame):
    raise KeyboardInterrupt


def run_array(parser, args, out, students, names, index):
    env = slurm_env()
    sub = os.path.join(out, ".slurm", time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}")
    os.makedirs(sub)
    q = lambda xs: " ".join(shlex.quote(x) for x in xs)  # noqa: E731
    script = os.path.join(sub, "task.sh")
    write_atomic(script, TASK_SCRIPT.format(
        students=q([os.path.abspath(s) for s in students]), names=q(names), stage=shlex.quote(sub),
        out=shlex.quote(out), grade=shlex.quote(os.path.join(ROOT, "scripts", "grade")),
        options=q(task_options(parser, args))))
    bench = not getattr(args, "no_bench", False)
    cmd = ["sbatch", "--parsable", f"--array=0-{len(students) - 1}", "--job-name=kl-grade",
           f"--output={sub}/task-%a.log", f"--chdir={os.getcwd()}", "--export=ALL"]
    # every task signs with the submitter's key, never with one a node makes up for itself
    env["KL_GRADER_KEY"] = os.path.abspath(signing.key_path(getattr(args, "key", None)))
    # Every grade times its rungs (the speed races), and a benchmark too: a task owns its node,
    # so timings never share cores.
    cmd += ["--exclusive"]
    cmd += [f"--partition={args.partition}"] if args.partition else []
    cmd += [f"--time={args.time}"] if args.time else []
    r = subprocess.run(cmd + [script], env=env, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        shutil.rmtree(sub, ignore_errors=True)
        raise CourseError(f"sbatch failed: {r.stderr.strip() or r.stdout.strip()}")
    job = r.stdout.strip().split(";")[0]
    t_submit = time.time()
    print(f"==> Slurm job {job}: {len(students)} tasks"
          f" (exclusive nodes{'' if bench else ', no benchmark'}), logs in {sub}", flush=True)
    # Ctrl-C, kill or a closed terminal cancels the job: no task grades on unwatched.
    previous = {s: signal.signal(s, interrupted) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return wait_and_collect(job, env, out, sub, students, names, index, t_submit, getattr(args, "key_bytes", None))
    except KeyboardInterrupt:
        subprocess.run(["scancel", job], env=env, capture_output=True, timeout=60)
        print(f"grade: cancelled Slurm job {job}", flush=True)
        raise
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def wait_and_collect(job, env, out, sub, students, names, index, t_submit, key=None):
    """Poll until every task has ended; {index[i]: grade dict}."""
    last = {i: {"id": f"{job}_{i}", "state": "PENDING", "node": None} for i in range(len(students))}
    started, results, failing_since = {}, {}, None
    while len(results) < len(students):
        time.sleep(POLL_SECONDS if time.time() - t_submit < 60 else POLL_SLOW)
        try:
            now = job_tasks(job, env)
            failing_since = None
        except (CourseError, subprocess.TimeoutExpired) as e:  # a busy controller: ask again
            failing_since = failing_since or time.time()
            if time.time() - failing_since > SCONTROL_PATIENCE:
                raise CourseError(f"no answer from Slurm for {SCONTROL_PATIENCE} s ({e}); job {job} "
                                  "goes on: collect it later with --resume") from None
            continue
        for i in range(len(students)):
            if i in results:
                continue
            t = now.get(i) or dict(last[i], state="GONE" if last[i]["state"] == "PENDING" else last[i]["state"])
            if t["state"] == "RUNNING" and i not in started:
                started[i] = time.time()
                log(names[i], f"running on {t['node']} ({t['id']})")
            last[i] = t
            if t["state"] in ACTIVE and i in now:
                continue
            if t["state"] in ACTIVE:  # it left the queue while active: purged before we saw its end
                t = dict(t, state="GONE" if t["state"] == "PENDING" else "UNKNOWN")
                if t["state"] == "UNKNOWN" and moved_since(os.path.join(out, names[i]), t_submit):
                    t["state"] = "COMPLETED"  # its grade.json arrived: it ended well
            results[index[i]] = collect(job, t, out, sub, students[i], names[i], started.get(i, t_submit), key)
    return results


def moved_since(folder, t):
    """True when folder has a grade.json written by a task of this run (not a Slurm zero)."""
    path = os.path.join(folder, "grade.json")
    try:
        if os.path.getmtime(path) < t - 1:
            return False
        with open(path, encoding="utf-8") as f:
            return "slurm" not in json.load(f)
    except (OSError, ValueError):
        return False


def collect(job, task, out, sub, student, name, started, key=None):
    i = task["id"].rsplit("_", 1)[1]
    logf = os.path.join(sub, f"task-{i}.log")
    if os.path.exists(logf):
        os.replace(logf, os.path.join(sub, f"{name}.log"))
    g = None
    if task["state"] == "COMPLETED":
        try:
            with open(os.path.join(out, name, "grade.json"), encoding="utf-8") as f:
                g = json.load(f)
        except (OSError, ValueError):
            task = dict(task, state="COMPLETED_WITHOUT_GRADE")
    if g is None:
        g = zero_grade(name, student, task, started, time.time())
        if key:  # signed like every grade.json grade writes, when it signs them
            g = signing.sign(g, key)
        write_atomic(os.path.join(out, name, "grade.json"), json.dumps(g, indent=2) + "\n")
        log(name, f"ZERO: {g['reason']} (log: {sub}/{name}.log)")
    else:
        c = g["correctness"]
        log(name, f"done on {task['node']}: {g['status']}, {c['points']}/{c['max_points']} points")
    shutil.rmtree(os.path.join(sub, f"task-{i}"), ignore_errors=True)
    return g
