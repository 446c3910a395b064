"""A lesson file (modules/NN_name/name_dev.c) as a list of percent cells; see modules/README.md."""
import glob
import json
import os
import re

from . import CourseError, read_text

CELL_RE = re.compile(r"^//\s*%%\s*\[(markdown|code)\]\s*(.*?)\s*$")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


class Cell:
    def __init__(self, kind, meta, lines, lineno):
        self.kind = kind        # "markdown" or "code"
        self.meta = meta        # dict from the JSON after the marker
        self.lines = lines      # raw lines after the marker, trailing blank lines dropped
        self.lineno = lineno    # 1-based line of the marker

    @property
    def grade_id(self):
        return self.meta.get("grade_id")

    def markdown(self):
        """A markdown cell's text: each `// ` comment prefix removed."""
        out = []
        for ln in self.lines:
            s = ln.lstrip()
            if s.startswith("//"):
                s = s[2:]
                s = s[1:] if s.startswith(" ") else s
            out.append(s)
        return "\n".join(out).strip("\n")

    def headings(self):
        """(level, text) of each Markdown heading in a markdown cell."""
        if self.kind != "markdown":
            return []
        hs = []
        for ln in self.markdown().splitlines():
            m = HEADING_RE.match(ln)
            if m:
                hs.append((len(m.group(1)), m.group(2)))
        return hs

    def code(self):
        return "\n".join(self.lines).strip("\n")


class Lesson:
    def __init__(self, path, preamble, cells):
        self.path = path
        self.preamble = preamble  # lines before the first cell marker
        self.cells = cells


def parse(path, text=None):
    """Split a lesson into cells. Raises CourseError on metadata that is not a JSON object."""
    if text is None:
        text = read_text(path)
    preamble, cells, cur = [], [], None
    for i, line in enumerate(text.splitlines(), 1):
        m = CELL_RE.match(line)
        if not m:
            (cur.lines if cur else preamble).append(line)
            continue
        meta = {}
        if m.group(2):
            try:
                meta = json.loads(m.group(2))
            except json.JSONDecodeError as e:
                raise CourseError(f"{path}:{i}: cell metadata is not valid JSON ({e.msg})") from None
            if not isinstance(meta, dict):
                raise CourseError(f"{path}:{i}: cell metadata must be a JSON object")
        cur = Cell(m.group(1), meta, [], i)
        cells.append(cur)
    for c in cells:
        while c.lines and not c.lines[-1].strip():
            c.lines.pop()
        while c.lines and not c.lines[0].strip():
            c.lines.pop(0)
    return Lesson(path, preamble, cells)


def find_lessons(root):
    """Every modules/*/<name>_dev.c under root, sorted."""
    return sorted(glob.glob(os.path.join(root, "modules", "*", "*_dev.c")))


def is_manual(cell):
    """An answer cell graded by hand: {"grade": true, "solution": true, "points": N} (nbgrader's
    manual-grading cell), a markdown cell the student writes into."""
    return cell.meta.get("grade") is True and cell.meta.get("solution") is True


def manual_cells(path, text=None):
    """The answer cells of one lesson, graded by hand, in order:
    [{"module": "01_matmul", "grade_id", "points", "line", "answer"}], "answer" being the
    cell's text as it stands in this copy of the lesson (a student's copy holds their answer).
    scripts/grade lists these as "to be graded by hand"."""
    les = parse(path, text)
    module = os.path.basename(os.path.dirname(os.path.abspath(path)))
    return [{"module": module, "grade_id": c.grade_id, "points": c.meta.get("points", 0),
             "line": c.lineno, "answer": c.markdown()}
            for c in les.cells if is_manual(c)]
