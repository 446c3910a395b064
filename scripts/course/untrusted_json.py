"""Parsing JSON that a student could have written or edited (report.json, machine.json,
grade.json): every way it can be bad is a one-line reason, never an exception.

Refused: files over a size cap; nesting deeper than a cap (json.loads recurses, so a deep file
would raise RecursionError, and jsonschema would recurse again); NaN, Infinity and numbers that
overflow to them (1e999); integers beyond 64 bits (they overflow float arithmetic later);
an object with the same key twice (a reader would see only the last one)."""
import itertools
import json
import math
import re

from . import CourseError

MAX_BYTES = 4 << 20  # a default-set report.json is ~200 KB
MAX_DEPTH = 32  # report.json nests 6 deep
MAX_INT = 2 ** 63

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class Refused(ValueError):
    """The text is JSON the course tools will not read; str() is the reason."""


def nesting_depth(text):
    """How deeply [ and { nest in text, strings skipped. Linear time, no recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    steps = (1 if c in "[{" else -1 for c in brackets)
    return max(itertools.accumulate(steps, initial=0))


def _constant(name):
    raise Refused(f"{name} is not a number a report may hold")


def _finite_float(text):
    x = float(text)
    if not math.isfinite(x):
        raise Refused(f"{text[:20]} overflows to infinity")
    return x


def _bounded_int(text):
    if len(text) > 20 or abs(int(text)) >= MAX_INT:
        raise Refused(f"integer {text[:20]}{'...' if len(text) > 20 else ''} is out of range")
    return int(text)


def _unique_keys(pairs):
    seen = set()
    for k, _ in pairs:
        if k in seen:
            raise Refused(f"key {k[:40]!r} appears twice in one object")
        seen.add(k)
    return dict(pairs)


def loads(text, max_depth=MAX_DEPTH):
    """The parsed value, or Refused with the reason."""
    depth = nesting_depth(text)
    if depth > max_depth:
        raise Refused(f"nested {depth} deep (at most {max_depth})")
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_finite_float,
                          parse_int=_bounded_int, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        raise Refused(f"not JSON: {e.msg} at line {e.lineno}") from None
    except RecursionError:  # nesting_depth should have stopped it; never a traceback
        raise Refused("nested too deep to parse") from None
    except Refused:
        raise
    except ValueError as e:  # e.g. Python's own limit on digits in an integer
        raise Refused(f"not JSON: {str(e)[:100]}") from None


def load(path, max_bytes=MAX_BYTES, max_depth=MAX_DEPTH):
    """(value, None) or (None, reason) for a file's content. CourseError when the file cannot
    be read at all (missing, a folder, no permission): that is the caller's usage problem."""
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise CourseError(f"cannot read {path}: {e.strerror}") from None
    if len(data) > max_bytes:
        return None, f"larger than {max_bytes} bytes"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    try:
        return loads(text, max_depth), None
    except Refused as e:
        return None, str(e)
