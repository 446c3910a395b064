"""The grader's signature on what it writes (report.json, machine.json): HMAC-SHA256 over the
canonical JSON of the object without its "signature" member, keyed by an instructor key that no
sandbox can see. The leaderboard ranks only objects whose signature verifies.

Key file: 64 hex characters (32 random bytes) on one line, mode 0600. Default path
~/.config/kernellab/grader.key; KL_GRADER_KEY or a script's --key names another."""
import hashlib
import hmac
import json
import os
import secrets

from . import CourseError

ALG = "HMAC-SHA256"
DEFAULT_KEY = os.path.join(os.path.expanduser("~"), ".config", "kernellab", "grader.key")


def key_path(explicit=None):
    return explicit or os.environ.get("KL_GRADER_KEY") or DEFAULT_KEY


def load_key(path=None, create=False):
    """The key's bytes. create=True makes a new key file (0600) when there is none."""
    path = key_path(path)
    if create and not os.path.exists(path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
    except (OSError, UnicodeDecodeError) as e:
        raise CourseError(f"cannot read the grader key {path}: {e}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise CourseError(f"{path} is not a grader key (want at least 32 hex characters)")
    return key


def canonical(obj):
    """The bytes that are signed: sorted keys, no spaces, ASCII, and no NaN or Infinity
    (ValueError if obj holds one: such an object cannot be signed)."""
    body = {k: v for k, v in obj.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def mac(obj, key):
    return hmac.new(key, canonical(obj), hashlib.sha256).hexdigest()


def sign(obj, key):
    """A copy of the dict obj with its "signature" member set."""
    out = {k: v for k, v in obj.items() if k != "signature"}
    out["signature"] = {"alg": ALG, "mac": mac(out, key)}
    return out


def verify(obj, key):
    """True when obj is a dict whose signature was made with key over exactly its content."""
    if not isinstance(obj, dict):
        return False
    sig = obj.get("signature")
    if not isinstance(sig, dict) or sig.get("alg") != ALG or not isinstance(sig.get("mac"), str):
        return False
    try:
        expected = mac(obj, key)
    except (TypeError, ValueError):
        return False
    return hmac.compare_digest(expected, sig["mac"])
