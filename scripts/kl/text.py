"""Figures in words, as report.md, report.py's summary, report.json's target notes and
report.html print them: a dash for a missing value, percents, x-ratios, sizes, target cases."""


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def size_str(s):
    if "m" in s:
        return f"{s['m']}x{s['n']}x{s['k']}" if len({s['m'], s['n'], s['k']}) > 1 else str(s["m"])
    if "rows" in s:
        return f"{s['rows']}x{s['cols']} ({s.get('ws', '?')})"
    return f"{s.get('n')} ({s.get('ws', '?')})"


def times_str(x):
    return "—" if x is None else f"{x:.2f}x"


def percent(x):
    return "—" if x is None else f"{100 * x:.1f}%"


def target_value_str(measure, value):
    """A target's figure as the target states it: % of peak or copy, or x BLIS."""
    if value is None:
        return "—"
    return f"{value:.2f}x" if measure in ("blis", "peer") else percent(value)


def target_case_str(measure, c, with_value=True):
    """'1024, 1 thread: avx2 84.0%' (a size not in the run has only its selecting key)."""
    s = c["size"]
    square = "m" in s and s["m"] == s.get("n") == s.get("k")
    size = (f"n = {s['n']}" if square else size_str(s) if len(s) > 1
            else " ".join(f"{k} = {v}" for k, v in s.items()))  # a size not in the run: its key only
    where = f"{size}, {c['threads']} thread{'s' if c['threads'] > 1 else ''}"
    if not with_value:
        return where
    if c["value"] is None:
        return f"{where}: {c['note']}"
    note = f" ({c['note']})" if c["note"] else ""
    return f"{where}: {c['variant']} {target_value_str(measure, c['value'])}{note}"
