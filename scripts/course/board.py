"""Writing the leaderboard (scripts/leaderboard) as Markdown and self-contained HTML.

Every string that came from a report, a file name or a label is untrusted: text() flattens it to
one line of visible characters, md() escapes what Markdown would read as markup (tables, code,
emphasis, links, HTML), html.escape() does the same for HTML. A newline in a reason cannot start
a table, a pipe cannot end a cell, and no tag reaches the page."""
import html
import re
import unicodedata

MAX_TEXT = 300
_MD_SPECIAL = set("\\`*_[]<>|~&!$#")
_SPACES = re.compile(r"\s+")


def text(s, limit=MAX_TEXT):
    """One line of visible characters: control, format (bidi, zero-width) and line/paragraph
    separators become spaces; runs of spaces collapse; at most `limit` characters."""
    s = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs") else c for c in str(s))
    s = _SPACES.sub(" ", s).strip()
    return s if len(s) <= limit else s[:limit - 1] + "…"


def md(s, limit=MAX_TEXT):
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in text(s, limit))


def md_code(s, limit=MAX_TEXT):
    """A code span: its content is literal, so only a backtick (which would end it) is replaced."""
    return "`" + text(s, limit).replace("`", "'") + "`"


def h(s, limit=MAX_TEXT):
    return html.escape(text(s, limit), quote=True)


def fmt(x):
    return "—" if x is None else f"{x:.3f}×"


def cover(n, total):
    return f"{n}/{total}"


RULES = (
    "Ranked: reports signed by the grader (HMAC) whose ceilings and BLIS figures agree with the "
    "grader's signed machine record. Score: for each case (op, size, threads) of the benchmark set, "
    "the best speedup over BLIS that any of the entry's correct variants reached (BLIS time from the "
    "machine record / kernel time); the geometric mean of those. Entries are ranked first by how "
    "many cases they cover (a case without a correct result is missing), then by score. "
    "Rejected: unparseable, too large or too deeply nested, NaN or Infinity, schema errors, wrong "
    "results, duplicated results, a ceiling or BLIS figure unlike the machine record's, a figure "
    "above the measured ceiling (+{tol:.0%}) or unlike its work / time, one report under two labels. "
    "Unverified: unsigned, edited after signing, or without a verified machine record; never ranked.")


def _table_rows(table):
    """[(rank, entry, score, covered, total)] for one table."""
    out = []
    for i, e in enumerate(table["ranked"], 1):
        n, total = table["covered"](e)
        out.append((i, e, table["score"](e), n, total))
    return out


def markdown(board):
    b = board
    md_lines = ["# kernellab leaderboard", "",
                f"Generated {b['when']} by `scripts/leaderboard` from {b['count']} report"
                f"{'s' if b['count'] != 1 else ''}: {b['ranked']} ranked, {len(b['rejected'])} rejected, "
                f"{len(b['unverified'])} unverified.", "", md(RULES.format(tol=b["tolerance"]), 2000), ""]
    for g in b["groups"]:
        md_lines += [f"## {md(g['title'])}", "", md(g["about"]), "",
                     "Benchmark set: " + md(", ".join(g["cases"]) or "none", 4000) + ".", ""]
        for t in g["tables"]:
            md_lines += [f"### {md(t['title'])}", ""]
            rows = _table_rows(t)
            if not rows:
                md_lines += ["No ranked report has results for this.", ""]
                continue
            md_lines += ["| rank | entry | speedup over BLIS | cases | correctness points |", "|---|---|---|---|---|"]
            md_lines += [f"| {i} | {md(e['label'], 60)} | {fmt(s)} | {cover(n, tot)} | {md(e['points'])} |"
                         for i, e, s, n, tot in rows]
            md_lines.append("")
    md_lines += ["## Not implemented", ""]
    md_lines += [f"- **{md(e['label'], 60)}**: {md(', '.join(e['unimplemented']))}" for e in b["unimplemented"]] or ["None."]
    if b["notes"]:
        md_lines += ["", "## Notes", ""]
        md_lines += [f"- **{md(e['label'], 60)}**: {md(n)}" for e in b["notes"] for n in e["notes"]]
    for title, key in (("Rejected", "rejected"), ("Unverified", "unverified")):
        md_lines += ["", f"## {title}", ""]
        md_lines += [f"- **{md(e['label'], 60)}** ({md_code(e['path'])}): {md('; '.join(e['reasons']))}"
                     for e in b[key]] or ["None."]
    return "\n".join(md_lines) + "\n"


STYLE = ("body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222;padding:0 1em}"
         "table{border-collapse:collapse;margin:.5em 0 1.5em;width:100%}"
         "th,td{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left}"
         "th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}"
         ".rej{background:#fff3f3;border-left:4px solid #c33;padding:.4em .8em;margin:.4em 0}"
         ".unv{background:#fff8e6;border-left:4px solid #c90;padding:.4em .8em;margin:.4em 0}"
         ".ni{color:#666}.note{color:#555}svg text{font:13px system-ui,sans-serif}")


def _chart(ranked, score):
    scored = [(e, score(e)) for e in ranked if score(e)]
    if not scored:
        return []
    best, bar_h, w = max(v for _, v in scored), 26, 520
    out = [f"<svg width='{w + 260}' height='{bar_h * len(scored) + 10}' role=img aria-label='speedup over BLIS'>"]
    for i, (e, v) in enumerate(scored):
        bw, y = max(2, int(w * v / best)), 5 + i * bar_h
        out.append(f"<text x=0 y={y + 17}>{h(e['label'], 24)}</text>"
                   f"<rect x=180 y={y} width={bw} height={bar_h - 6} fill='#3a7bd5'/>"
                   f"<text x={186 + bw} y={y + 17}>{v:.3f}×</text>")
    return out + ["</svg>"]


def page(board):
    b = board
    out = ["<!doctype html><html lang=en><head><meta charset=utf-8>",
           "<meta name=viewport content='width=device-width,initial-scale=1'>",
           f"<title>kernellab leaderboard</title><style>{STYLE}</style></head><body>",
           "<h1>kernellab leaderboard</h1>",
           f"<p>Generated {h(b['when'])} by <code>scripts/leaderboard</code> from {b['count']} reports: "
           f"<b>{b['ranked']} ranked</b>, <b>{len(b['rejected'])} rejected</b>, "
           f"<b>{len(b['unverified'])} unverified</b>.</p>",
           f"<p class=note>{h(RULES.format(tol=b['tolerance']), 2000)}</p>"]
    for g in b["groups"]:
        out += [f"<h2>{h(g['title'])}</h2>", f"<p class=note>{h(g['about'])}</p>",
                f"<p class=note>Benchmark set: {h(', '.join(g['cases']) or 'none', 4000)}.</p>"]
        out += _chart(g["tables"][0]["ranked"], g["tables"][0]["score"])
        for t in g["tables"]:
            out.append(f"<h3>{h(t['title'])}</h3>")
            rows = _table_rows(t)
            if not rows:
                out.append("<p class=ni>No ranked report has results for this.</p>")
                continue
            out.append("<table><tr><th>rank</th><th>entry</th><th>speedup over BLIS</th><th>cases</th>"
                       "<th>correctness points</th></tr>")
            out += [f"<tr><td class=num>{i}</td><td>{h(e['label'], 60)}</td><td class=num>{h(fmt(s))}</td>"
                    f"<td class=num>{cover(n, tot)}</td><td>{h(e['points'])}</td></tr>" for i, e, s, n, tot in rows]
            out.append("</table>")
    out.append("<h2>Not implemented</h2>")
    out += [f"<p class=ni><b>{h(e['label'], 60)}</b>: {h(', '.join(e['unimplemented']))}</p>"
            for e in b["unimplemented"]] or ["<p>None.</p>"]
    if b["notes"]:
        out.append("<h2>Notes</h2>")
        out += [f"<p class=ni><b>{h(e['label'], 60)}</b>: {h(n)}</p>" for e in b["notes"] for n in e["notes"]]
    for title, key, cls in (("Rejected", "rejected", "rej"), ("Unverified", "unverified", "unv")):
        out.append(f"<h2>{title} ({len(b[key])})</h2>")
        out += [f"<div class={cls}><b>{h(e['label'], 60)}</b> <code>{h(e['path'])}</code><br>"
                f"{h('; '.join(e['reasons']))}</div>" for e in b[key]] or ["<p>None.</p>"]
    out.append("</body></html>")
    return "\n".join(out) + "\n"
