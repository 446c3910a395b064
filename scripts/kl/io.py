"""Files and errors shared by every script: an atomic writer (no report, grade or board is ever
half-written), UTF-8 reading with a clear error, and the one-line error exit."""
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class UserError(Exception):
    """A clear, user-facing error: the script prints it and exits non-zero."""


def die(prog, msg, code=2):
    print(f"{prog}: error: {msg}", file=sys.stderr)
    sys.exit(code)


def run_main(prog, main):
    """Run main(); turn UserError into one line on stderr and exit status 2."""
    try:
        sys.exit(main() or 0)
    except UserError as e:
        die(prog, str(e))
    except KeyboardInterrupt:
        die(prog, "interrupted", 130)


def write_atomic(path, data):
    """Write text or bytes to path via a temp file in the same folder and rename: readers
    see the old file or the new one, never a partial one."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; these files are for reading
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text") from None
