"""Running untrusted (student) code: bubblewrap with a throwaway unprivileged uid, no network,
new pid/ipc/uts namespaces, read-only system folders, a private /tmp, /proc and /dev, one
writable folder (the student's work copy), resource limits, and nothing left alive when a
step ends.

Why the uid is dropped before bwrap starts: as root, `bwrap --unshare-user --uid 65534` maps
the inner uid to root outside, and the kernel checks file permissions against that outer uid,
so root-only files (/etc/shadow, keys) stay readable. Started as a fresh uid instead, bwrap
makes an unprivileged user namespace and the sandbox is that uid everywhere.

Why everything dies with the step: bwrap's --unshare-pid makes the command's init the pid-1 of
a new pid namespace; when it exits (the step ended) or is killed (a timeout), the kernel kills
every process left in the namespace, double-forked setsid daemons included. After each step
run() checks that no process of the throwaway uid survived (and kills any)."""
import os
import resource
import signal
import subprocess
import threading
import time

from . import CourseError

BWRAP = "/usr/bin/bwrap"
# Read-only system folders the build tools need (compilers, Python for meson, libraries,
# ld.so.cache, dpkg's database for scripts/deps.sh --check).
RO_DIRS = ("/usr", "/etc", "/var/lib/dpkg", "/sys/devices/system/cpu")
ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# The inner view: who the code is and where it lives.
INNER_UID = 65534
INNER_HOME = "/tmp"
MAX_OUTPUT = 4 << 20  # bytes kept per stream; the rest is read and dropped (an output bomb)


class Limits:
    """Per-process limits inside the sandbox (setrlimit before bwrap starts; inherited)."""

    def __init__(self, memory_mib=4096, processes=256, cpu_seconds=900, file_mib=1024, open_files=1024):
        self.memory_mib = memory_mib
        self.processes = processes
        self.cpu_seconds = cpu_seconds
        self.file_mib = file_mib
        self.open_files = open_files

    def apply(self):
        for res, value in ((resource.RLIMIT_AS, self.memory_mib << 20),
                           (resource.RLIMIT_NPROC, self.processes),
                           (resource.RLIMIT_CPU, self.cpu_seconds),
                           (resource.RLIMIT_FSIZE, self.file_mib << 20),
                           (resource.RLIMIT_NOFILE, self.open_files),
                           (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(res, (value, value))

    def describe(self):
        return (f"address space {self.memory_mib} MiB, {self.processes} processes, {self.cpu_seconds} CPU s, "
                f"files {self.file_mib} MiB, {self.open_files} open files")


def throwaway_uid():
    """A uid no account uses, distinct per grading process (so RLIMIT_NPROC, which counts per
    uid, is this sandbox's own and the survivor check finds only its processes)."""
    return 200000 + os.getpid() % 100000


def problem():
    """None when this machine can run the sandbox; else why not."""
    if not os.access(BWRAP, os.X_OK):
        return f"{BWRAP} not found (Debian package bubblewrap)"
    if os.geteuid() != 0:
        return "grading must run as root, to give each sandbox its own throwaway uid"
    uid = throwaway_uid()
    try:
        r = subprocess.run(bwrap_argv("/", [], uid) + ["/bin/true"], capture_output=True, text=True,
                           timeout=60, preexec_fn=_preexec(uid, Limits()))
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bwrap could not start: {e}"
    if r.returncode != 0:
        return "bwrap cannot create the namespaces here: " + (r.stderr.strip().splitlines() or ["?"])[-1]
    return None


def bwrap_argv(cwd, writable, uid, hostname="sandbox", pid_namespace=True):
    """pid_namespace=False (for timed steps: bwrap then reaps the command, so wait4 sees its CPU
    time) drops the new pid namespace and mounts no /proc at all, so the host's processes stay
    invisible; survivors are then found by uid and killed."""
    argv = [BWRAP, "--unshare-user", "--uid", str(INNER_UID), "--gid", str(INNER_UID),
            "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", hostname, "--die-with-parent", "--new-session",
            "--dev", "/dev", "--tmpfs", "/tmp"]
    if pid_namespace:
        argv += ["--unshare-pid", "--proc", "/proc"]
    for d in RO_DIRS:
        if os.path.isdir(d):
            argv += ["--ro-bind", d, d]
    for name in ROOT_LINKS:
        p = "/" + name
        if os.path.islink(p):
            argv += ["--symlink", os.readlink(p), p]
        elif os.path.isdir(p):
            argv += ["--ro-bind", p, p]
    for w in writable:
        argv += ["--bind", w, w]
    argv += ["--chdir", cwd, "--clearenv", "--setenv", "PATH", "/usr/bin:/bin",
             "--setenv", "HOME", INNER_HOME, "--setenv", "TMPDIR", "/tmp", "--setenv", "LANG", "C.UTF-8"]
    return argv + ["--"]


def _preexec(uid, limits):
    def f():
        os.setsid()
        limits.apply()
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    return f


def prepare_tree(path, uid):
    """Give the throwaway uid the work copy (its only writable folder) and let it reach it."""
    for d, dirs, files in os.walk(path):
        os.lchown(d, uid, uid)
        for n in dirs + files:
            os.lchown(os.path.join(d, n), uid, uid)
    p = os.path.dirname(os.path.abspath(path))
    while p != "/":  # traverse-only for the parents (mkdtemp makes them 0700)
        st = os.stat(p)
        if not st.st_mode & 0o001:
            os.chmod(p, (st.st_mode & 0o7777) | 0o111)
        p = os.path.dirname(p)


def survivors(uid):
    """pids of live processes whose real uid is uid (nothing should outlive a step; a zombie
    is dead, waiting for a parent outside to reap it)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                fields = dict(ln.split(":", 1) for ln in f if ":" in ln)
        except OSError:
            continue
        if int(fields.get("Uid", "-1 ").split()[0]) == uid and not fields.get("State", "").strip().startswith("Z"):
            out.append(int(pid))
    return out


TICK = os.sysconf("SC_CLK_TCK")


def cpu_by_pid(uid):
    """{pid: user + system seconds} of the live processes whose real uid is uid."""
    out = {}
    for pid in survivors(uid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            continue
    return out


def _drain(stream, sink):
    kept = 0
    while True:
        chunk = stream.read(65536)
        if not chunk:
            break
        if kept < MAX_OUTPUT:
            sink.append(chunk[:MAX_OUTPUT - kept])
            kept += len(sink[-1])
    stream.close()


class Result:
    def __init__(self, returncode, stdout, stderr, results, seconds, timed_out, killed, cpu_seconds):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.results = results      # bytes from the result pipe (fd RESULT_FD inside), or None
        self.seconds = seconds      # wall clock the grader observed for the step
        self.timed_out = timed_out
        self.cpu_seconds = cpu_seconds  # user + system time of the step's processes the kernel accounted
        self.survivors_killed = killed


class Sandbox:
    """One student's sandbox: `run(cmd, ...)` runs a step inside it (or, unsafe, without)."""

    def __init__(self, work, limits, enabled=True, uid=None):
        self.work = os.path.abspath(work)
        self.limits = limits
        self.enabled = enabled
        self.uid = uid or throwaway_uid()
        if enabled:
            prepare_tree(self.work, self.uid)

    def run(self, cmd, timeout, cwd=None, env=None, result_pipe=False, pid_namespace=True):
        """Run cmd; returns a Result. With result_pipe, the command gets a pipe's write end as
        an open fd and the string {RESULT_FD} in cmd is replaced by its path (/proc/self/fd/N):
        the grader reads it while the step runs, and nothing can rewrite it afterwards.
        Result.cpu_seconds is the CPU time of the reaped process tree: complete only with
        pid_namespace=False (see bwrap_argv)."""
        cwd = cwd or self.work
        rfd = wfd = None
        if result_pipe:
            rfd, wfd = os.pipe()
            if self.enabled:  # reopened through /proc/self/fd by the sandbox's uid
                os.fchown(wfd, self.uid, self.uid)
            cmd = [c.replace("{RESULT_FD}", f"/proc/self/fd/{wfd}") for c in cmd]
        if self.enabled:
            argv = bwrap_argv(cwd, [self.work], self.uid, pid_namespace=pid_namespace)
            for k, v in (env or {}).items():
                argv[-1:-1] = ["--setenv", k, v]
            argv += cmd
            penv = {"PATH": "/usr/bin:/bin"}
            pre = _preexec(self.uid, self.limits)
        else:
            argv, pre = cmd, _unsafe_preexec(self.limits)
            penv = dict(os.environ, HOME=os.environ.get("HOME", "/tmp"), **(env or {}))
        t0 = time.monotonic()
        out, err, res = [], [], []
        p = subprocess.Popen(argv, cwd=cwd, env=penv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, preexec_fn=pre, pass_fds=(wfd,) if wfd else ())
        readers = [threading.Thread(target=_drain, args=(p.stdout, out), daemon=True),
                   threading.Thread(target=_drain, args=(p.stderr, err), daemon=True)]
        if wfd is not None:
            os.close(wfd)
            readers.append(threading.Thread(target=_drain, args=(os.fdopen(rfd, "rb"), res), daemon=True))
        for t in readers:
            t.start()
        timed_out, cpu, seen = False, None, {}
        while True:  # wait4, for the CPU time of the step's whole (reaped) process tree
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                # A process the step never reaps hides its CPU time from wait4: the samples
                # of every process of the uid catch it (to within one poll).
                cpu = max(usage.ru_utime + usage.ru_stime, sum(seen.values()))
                break
            if self.enabled and not pid_namespace:
                for q, t in cpu_by_pid(self.uid).items():
                    seen[q] = max(seen.get(q, 0.0), t)
            if time.monotonic() - t0 > timeout and not timed_out:
                timed_out = True
                _killpg(p.pid)
            time.sleep(0.002)
        seconds = time.monotonic() - t0
        _killpg(p.pid)  # without the sandbox, what the step left in its session
        killed = []
        if self.enabled:
            for i in range(100):  # the namespace's init is gone; its members die with it
                left = survivors(self.uid)
                if not left:
                    break
                if i >= 25:  # still there after half a second: kill them and say so
                    killed = sorted(set(killed) | set(left))
                    for pid in left:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                time.sleep(0.02)
        for t in readers:
            t.join(timeout=5)
        text = lambda chunks: b"".join(chunks).decode("utf-8", "replace")  # noqa: E731
        return Result(p.returncode, text(out), text(err), b"".join(res) if result_pipe else None,
                      seconds, timed_out, killed, cpu)


def _killpg(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _unsafe_preexec(limits):
    def f():
        os.setsid()
        limits.apply()
    return f


def require(enabled):
    """Raise CourseError unless the sandbox works here (or the instructor waived it)."""
    if not enabled:
        return
    why = problem()
    if why:
        raise CourseError(f"refusing to run untrusted code without a sandbox: {why} "
                          "(--unsafe-no-sandbox runs it anyway, on trusted submissions only)")
