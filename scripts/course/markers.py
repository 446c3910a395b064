"""Solution and hidden-test markers in C sources: find the blocks, stub solutions, strip and
restore hidden tests, and list the lines a release must not leak.

Markers sit alone on their line:
    /* BEGIN SOLUTION */ ... /* END SOLUTION */          (instructor tree)
    /* BEGIN HIDDEN TESTS */ ... /* END HIDDEN TESTS */  (instructor tree)
In the student tree a solution becomes a stub between /* BEGIN YOUR CODE */ and
/* END YOUR CODE */, and each hidden block leaves the one line /* HIDDEN TESTS */ where
scripts/grade puts it back."""
import re

from . import CourseError

SOLUTION = ("/* BEGIN SOLUTION */", "/* END SOLUTION */")
HIDDEN = ("/* BEGIN HIDDEN TESTS */", "/* END HIDDEN TESTS */")
YOURS = ("/* BEGIN YOUR CODE */", "/* END YOUR CODE */")
HIDDEN_ANCHOR = "/* HIDDEN TESTS */"
NOT_IMPLEMENTED = "/* Not implemented yet: write this here (see the lesson). */"
SOURCE_EXTS = (".c", ".h", ".cc", ".cpp", ".hpp", ".inc")
ALL_MARKERS = SOLUTION + HIDDEN

IDENT = re.compile(r"[A-Za-z_]\w*")


def blocks(lines, markers, path):
    """[(begin, end)] line indexes of each marked block (markers included). Raises on
    nesting, a stray END, or a BEGIN without END."""
    begin_m, end_m = markers
    out, open_at = [], None
    for i, ln in enumerate(lines):
        s = ln.strip()
        if s == begin_m:
            if open_at is not None:
                raise CourseError(f"{path}:{i + 1}: {begin_m} inside the block opened at line {open_at + 1}")
            open_at = i
        elif s == end_m:
            if open_at is None:
                raise CourseError(f"{path}:{i + 1}: {end_m} without {begin_m}")
            out.append((open_at, i))
            open_at = None
        elif begin_m in s or end_m in s:
            raise CourseError(f"{path}:{i + 1}: marker must be alone on its line: {s}")
    if open_at is not None:
        raise CourseError(f"{path}:{open_at + 1}: {begin_m} has no {end_m}")
    return out


def has_markers(text):
    return any(m in text for m in ALL_MARKERS)


def _blank_comments_and_strings(src):
    """src with comments and string/char literals replaced by spaces (newlines kept)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


KEYWORDS = {"return", "if", "else", "for", "while", "do", "switch", "case", "goto", "break",
            "continue", "sizeof", "typedef", "default"}
DECL_RE = re.compile(r"^\s*(?:(?:const|static|volatile|register|unsigned|signed|struct|enum)\s+)*"
                     r"([A-Za-z_]\w*)(?:\s*\*+\s*|\s+)(?:const\s+)?([A-Za-z_]\w*)\s*(?:=|;|\[)")


def scaffold_locals(lines, at, path):
    """Names declared in the enclosing function body before line `at` (the scaffolding a
    stub leaves unused)."""
    src = _blank_comments_and_strings("\n".join(lines[:at]))
    stack = []
    for i, c in enumerate(src):
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            stack.pop()
    if not stack:
        return []
    names = []
    for ln in src[stack[0] + 1:].split("\n"):
        m = DECL_RE.match(ln)
        if m and m.group(1) not in KEYWORDS and m.group(2) not in KEYWORDS:
            names.append(m.group(2))
    return names


def solution_only_helpers(lines, path):
    """{name: line index} of file-scope static functions that only solution blocks call."""
    src = _blank_comments_and_strings("\n".join(lines)).split("\n")
    inside = set()
    for b, e in blocks(lines, SOLUTION, path):
        inside.update(range(b, e + 1))
    defs = {}
    for i, ln in enumerate(src):
        m = re.match(r"^(?:static\s+(?:inline\s+)?)[^;=()]*?\b([A-Za-z_]\w*)\s*\(", ln)
        if m:
            defs[m.group(1)] = i
    out = {}
    for name, at in defs.items():
        uses = [i for i, ln in enumerate(src) if i != at and re.search(r"\b%s\b" % name, ln)]
        if uses and all(i in inside for i in uses):
            out[name] = at
    return out


def enclosing_function(lines, at, path):
    """(return_type, [parameter names]) of the function whose body contains line `at`."""
    rtype, _, names = function_at(lines, at, path)
    return rtype, names


ATTRIBUTE_RE = re.compile(r"__attribute__\s*\(\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\)")


def _blank_preprocessor(src):
    """src with preprocessor lines (and their backslash continuations) blanked."""
    out, cont = [], False
    for ln in src.split("\n"):
        directive = cont or ln.lstrip().startswith("#")
        cont = directive and ln.rstrip().endswith("\\")
        out.append(" " * len(ln) if directive else ln)
    return "\n".join(out)


def function_at(lines, at, path):
    """(return_type, name, [parameter names]) of the function whose body contains line `at`."""
    src = _blank_preprocessor(_blank_comments_and_strings("\n".join(lines[:at])))
    stack = []
    for i, c in enumerate(src):
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            stack.pop()
    if not stack:
        raise CourseError(f"{path}:{at + 1}: solution block is not inside a function body")
    j = stack[0] - 1
    while j >= 0 and src[j].isspace():
        j -= 1
    if j < 0 or src[j] != ")":
        raise CourseError(f"{path}:{at + 1}: solution block is not inside a function body")
    depth, k = 0, j
    while k >= 0:
        depth += src[k] == ")"
        depth -= src[k] == "("
        if depth == 0:
            break
        k -= 1
    params_src, head = src[k + 1:j], src[:k]
    # The declaration starts after the previous ';', '}' or preprocessor line.
    start = max(head.rfind(";"), head.rfind("}")) + 1
    decl = [ln for ln in head[start:].splitlines() if not ln.lstrip().startswith("#")]
    words = re.findall(r"[A-Za-z_]\w*|\*", ATTRIBUTE_RE.sub(" ", " ".join(decl)))
    if not words:
        raise CourseError(f"{path}:{at + 1}: cannot find the function around this solution block")
    rtype = [w for w in words[:-1] if w not in ("static", "inline", "extern", "__inline__")]
    names, depth, cur = [], 0, ""
    for ch in params_src + ",":
        if ch == "," and depth == 0:
            p = cur.strip()
            cur = ""
            if not p or p in ("void", "..."):
                continue
            fp = re.search(r"\(\s*\*\s*([A-Za-z_]\w*)", p)  # function pointer parameter
            ids = [fp.group(1)] if fp else IDENT.findall(re.sub(r"\[.*?\]", "", p))
            if ids:
                names.append(ids[-1])
            continue
        depth += ch in "(["
        depth -= ch in ")]"
        cur += ch
    return " ".join(rtype), words[-1], names


def stub_lines(indent, rtype, params, extra=(), where="a stub"):
    """A stub that compiles, leaves its mark with kl_not_implemented("file: function()")
    (so a lesson names the file to edit even when a caller goes on) and returns
    KL_EUNSUPPORTED, nothing, or a zero of its return type."""
    out = [indent + YOURS[0], indent + NOT_IMPLEMENTED]
    casts, line = [f"(void){p};" for p in list(params) + [x for x in extra if x not in params]], indent
    for c in casts:
        if len(line) + len(c) > 96 and line.strip():
            out.append(line.rstrip())
            line = indent
        line += c + " "
    if line.strip():
        out.append(line.rstrip())
    call = 'kl_not_implemented("%s")' % where.replace("\\", "/").replace('"', "'")
    if rtype == "kl_status":
        out.append(indent + f"return {call};")
    elif rtype == "void":
        out.append(indent + f"{call};")
    else:
        out.append(indent + f"{call};")
        out.append(indent + f"return ({rtype}){{0}};")
    out.append(indent + YOURS[1])
    return out


def release_text(text, path, keep_hidden=False):
    """The student version of one source file: solutions stubbed, hidden tests removed
    (kept with keep_hidden: the version scripts/grade builds when the student lacks a file)."""
    lines = text.split("\n")
    edits = []
    helpers = solution_only_helpers(lines, path)  # cast in the first stub after their definition
    for b, e in blocks(lines, SOLUTION, path):
        rtype, name, params = function_at(lines, b, path)
        indent = re.match(r"\s*", lines[b]).group(0)
        ready = sorted(n for n, at in helpers.items() if at < b)
        for n in ready:
            del helpers[n]
        extra = scaffold_locals(lines, b, path) + ready
        edits.append((b, e, stub_lines(indent, rtype, params, extra, f"{path}: {name}()")))
    for b, e in [] if keep_hidden else blocks(lines, HIDDEN, path):
        indent = re.match(r"\s*", lines[b]).group(0)
        edits.append((b, e, [indent + HIDDEN_ANCHOR]))
    edits.sort()
    for (b1, e1, _), (b2, _, _) in zip(edits, edits[1:]):
        if b2 <= e1:
            raise CourseError(f"{path}:{b2 + 1}: a solution and a hidden-test block overlap")
    for b, e, new in reversed(edits):
        lines[b:e + 1] = new
    return "\n".join(lines)


def restore_hidden(student_text, instructor_text, path):
    """Put the instructor's hidden-test blocks back at the /* HIDDEN TESTS */ anchors of a
    student file. Raises when the anchors do not match the instructor's blocks one for one."""
    ilines = instructor_text.split("\n")
    hidden = [ilines[b:e + 1] for b, e in blocks(ilines, HIDDEN, path)]
    slines = student_text.split("\n")
    anchors = [i for i, ln in enumerate(slines) if ln.strip() == HIDDEN_ANCHOR]
    if len(anchors) != len(hidden):
        raise CourseError(f"{path}: {len(anchors)} hidden-test anchors, instructor has {len(hidden)} blocks")
    for i, block in reversed(list(zip(anchors, hidden))):
        slines[i:i + 1] = block
    return "\n".join(slines)


def insert_solutions(student_text, instructor_text, path, which=None):
    """Replace the student's YOUR CODE blocks with the instructor's solutions (for demos and
    tests). `which(i)` picks blocks by index; None takes all."""
    ilines, slines = instructor_text.split("\n"), student_text.split("\n")
    sol = [ilines[b + 1:e] for b, e in blocks(ilines, SOLUTION, path)]
    yours = blocks(slines, YOURS, path)
    if len(sol) != len(yours):
        raise CourseError(f"{path}: {len(yours)} YOUR CODE blocks, instructor has {len(sol)} solutions")
    for i, ((b, e), body) in reversed(list(enumerate(zip(yours, sol)))):
        if which is None or which(i):
            slines[b + 1:e] = body
    return "\n".join(slines)


def _tokens(line):
    return [t for t in re.findall(r"[A-Za-z_]\w*|\d[\w.]*|\S", line) if t not in "{}"]


def secret_lines(text, path):
    """Normalised non-trivial lines (more than one token besides braces) inside solution and
    hidden-test blocks of one instructor file."""
    lines = text.split("\n")
    out = set()
    for b, e in blocks(lines, SOLUTION, path) + blocks(lines, HIDDEN, path):
        for ln in lines[b + 1:e]:
            if len(_tokens(ln)) > 1:
                out.add(" ".join(ln.split()))
    return out


def public_lines(text, path):
    """Normalised lines of one instructor file outside every marked block."""
    lines = text.split("\n")
    inside = set()
    for b, e in blocks(lines, SOLUTION, path) + blocks(lines, HIDDEN, path):
        inside.update(range(b, e + 1))
    return {" ".join(ln.split()) for i, ln in enumerate(lines) if i not in inside}


def hidden_grade_ids(text, path):
    """grade_ids ("test_...") named inside the hidden-test blocks of one instructor file."""
    lines = text.split("\n")
    out = set()
    for b, e in blocks(lines, HIDDEN, path):
        out.update(re.findall(r'"(test_\w+)"', "\n".join(lines[b:e + 1])))
    return out
