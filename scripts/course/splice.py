"""The graded tree: the instructor's tree, byte for byte, except the bodies of its
/* BEGIN SOLUTION */ blocks, which come from the student's /* BEGIN YOUR CODE */ blocks of the
same file (matched in order). Everything else the student changed is ignored (and reported).

The submission is read defensively: a symlink, device, FIFO or socket anywhere in it, or a
path that resolves outside it, refuses the whole submission (never followed, never quoted);
files are opened with O_NOFOLLOW and checked to be regular. A student body that could act
outside its function (closing the function's brace, preprocessor directives other than
#pragma and local conditionals/macros, inline assembly, constructor/section attributes) is
refused too: such code would run before any test, or rewrite instructor code after the block."""
import os
import re
import stat

from . import CourseError, markers

SKIP_DIRS = {".git", "build", "builddir"}
MAX_FILE = 2 << 20  # bytes: a source file larger than this is not a submission
# Identifiers a solution body has no use for and an attack does (run code at load time, emit
# arbitrary assembly or sections, or alias symbols the tests call).
FORBIDDEN_WORDS = {"asm", "__asm", "__asm__", "_Pragma", "constructor", "destructor", "section",
                   "init_priority", "ifunc", "alias", "weakref", "visibility", "symver"}


ASM_WORDS = {"asm", "__asm", "__asm__"}
EMPTY_ASM = re.compile(r'(?:asm|__asm|__asm__)\s*(?:volatile|__volatile__)?\s*\(\s*""\s*[:)]')


class Refused(Exception):
    """The submission cannot be graded; the message says why (never file contents)."""


def _rel(root, path):
    return os.path.relpath(path, root)


def check_tree(student):
    """Refuse a submission holding anything but folders and regular files (outside .git and
    build folders, which are never read)."""
    root = os.path.realpath(student)
    st = os.lstat(student)
    if stat.S_ISLNK(st.st_mode):
        raise Refused(f"the submission {student} is a symlink")
    for d, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [n for n in dirs if n not in SKIP_DIRS]
        for n in sorted(dirs + files):
            p = os.path.join(d, n)
            m = os.lstat(p).st_mode
            kind = ("a symlink" if stat.S_ISLNK(m) else "a device" if stat.S_ISCHR(m) or stat.S_ISBLK(m)
                    else "a FIFO" if stat.S_ISFIFO(m) else "a socket" if stat.S_ISSOCK(m) else None)
            if kind:
                raise Refused(f"{_rel(root, p)} is {kind}: submissions hold regular files only")


def read_student(student, rel):
    """The student's text of rel, or None when absent. Opens each path component without
    following symlinks, so nothing outside the submission is ever read."""
    root = os.path.realpath(student)
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise Refused(f"{rel}: not a plain relative path")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            flags = os.O_RDONLY | os.O_NOFOLLOW | (0 if last else os.O_DIRECTORY)
            try:
                nfd = os.open(part, flags, dir_fd=fd)
            except FileNotFoundError:
                return None
            except OSError as e:  # ELOOP: a symlink; ENOTDIR: a file where a folder should be
                raise Refused(f"{rel}: cannot be read as a regular file inside the submission ({e.strerror})") \
                    from None
            os.close(fd)
            fd = nfd
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"{rel}: not a regular file")
        if st.st_size > MAX_FILE:
            raise Refused(f"{rel}: {st.st_size} bytes, more than a source file may hold ({MAX_FILE})")
        with os.fdopen(fd, "rb") as f:
            fd = None
            data = f.read(MAX_FILE + 1)
    finally:
        if fd is not None:
            os.close(fd)
    return data.decode("utf-8", "surrogateescape")


def body_problem(body_lines):
    """Why a student body may not be spliced, or None. Comments and strings are blanked
    first, so only code counts. Allowed directives: #pragma; #if/#ifdef/#ifndef/#elif/#else/
    #endif balanced inside the body, each branch brace-balanced; #define (no braces in the
    replacement) of names the body #undefs again. So on every preprocessor path the body
    stays inside its function and leaves no macro behind."""
    text = "\n".join(body_lines)
    if _unterminated(text):
        return "an unterminated comment or string literal (it would swallow instructor code)"
    code = markers._blank_comments_and_strings(text)
    if re.search(r"<%|%>|%:|<:|:>|\?\?[=/'()!<>-]", code):
        return "a digraph or trigraph (braces and directives in disguise)"
    depth, opened, defined = 0, [], []
    for ln in code.split("\n"):
        s = ln.strip()
        if s.endswith("\\") and not s.startswith("#"):
            return "a line continuation (it would join the next instructor line)"
        if s.startswith("#"):
            m = re.match(r"#\s*(\w*)\s*(\w*)(.*)", s)
            d, name, rest = m.group(1), m.group(2), m.group(3)
            if s.endswith("\\"):
                return "a directive continued on the next line"
            if d == "pragma":
                continue
            if d in ("if", "ifdef", "ifndef"):
                opened.append(depth)
            elif d in ("elif", "else", "endif"):
                if not opened:
                    return f"#{d} without its #if"
                if depth != opened[-1]:
                    return f"a conditional branch with unbalanced braces (at #{d})"
                if d == "endif":
                    opened.pop()
            elif d == "define":
                if "{" in rest or "}" in rest:
                    return f"a macro ({name}) that expands to braces"
                defined.append(name)
            elif d == "undef":
                if name in defined:
                    defined.remove(name)
            else:
                return f"a preprocessor directive (#{d}): only #pragma, conditionals and local macros are allowed"
            continue
        for c in ln:
            depth += c == "{"
            depth -= c == "}"
            if depth < 0:
                return "a '}' that closes the enclosing function (code outside the block)"
            if opened and depth < opened[-1]:
                return "a conditional branch with unbalanced braces"
    if opened:
        return "an #if without its #endif"
    if depth:
        return "unbalanced braces"
    if defined:
        return f"a macro ({defined[0]}) that is not #undef'd before the block ends"
    for m in re.finditer(r"\b(?:asm|__asm|__asm__)\b", code):  # an empty template is a compiler barrier
        if not EMPTY_ASM.match(text, m.start()):
            return "inline assembly (only the empty compiler barrier __asm__ volatile(\"\" ...) is allowed)"
    bad = sorted(set(re.findall(r"[A-Za-z_]\w*", code)) & FORBIDDEN_WORDS - ASM_WORDS)
    if bad:
        return f"'{bad[0]}' (inline assembly and load-time or symbol attributes are not allowed)"
    return None


def _unterminated(src):
    i, n = 0, len(src)
    while i < n:
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            if j < 0:
                return True
            i = j + 2
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src[i] in "\"'":
            q, j = src[i], i + 1
            while j < n and src[j] != q:
                if src[j] == "\n":
                    return True
                j += 2 if src[j] == "\\" else 1
            if j >= n:
                return True
            i = j + 1
        else:
            i += 1
    return False


def _outside(lines, blocks_):
    inside = set()
    for b, e in blocks_:
        inside.update(range(b + 1, e))
    return [" ".join(ln.split()) for i, ln in enumerate(lines) if i not in inside]


def splice_file(itext, stext, rel):
    """(graded text, [warnings]). itext: the instructor's full file (hidden tests included);
    stext: the student's text or None. Raises Refused for a body that may not be spliced."""
    ilines = itext.split("\n")
    isol = markers.blocks(ilines, markers.SOLUTION, rel)
    stub = markers.release_text(itext, rel, keep_hidden=True).split("\n")
    if stext is None:
        return "\n".join(stub), [f"{rel}: missing from the submission; graded as the unsolved stub"]
    slines = stext.split("\n")
    try:
        yours = markers.blocks(slines, markers.YOURS, rel)
    except CourseError as e:
        return "\n".join(stub), [f"{rel}: its YOUR CODE markers are broken ({e}); graded as the unsolved stub"]
    if len(yours) != len(isol):
        return "\n".join(stub), [f"{rel}: {len(yours)} YOUR CODE blocks where the instructor has {len(isol)}; "
                                 "graded as the unsolved stub"]
    warnings = []
    # The student's text outside its blocks should be the released text outside its stubs.
    released = markers.release_text(itext, rel).split("\n")
    if _outside(slines, yours) != _outside(released, markers.blocks(released, markers.YOURS, rel)):
        warnings.append(f"{rel}: text outside the YOUR CODE blocks differs from the release; "
                        "only the blocks were graded")
    for n, ((ib, ie), (sb, se)) in reversed(list(enumerate(zip(isol, yours), 1))):
        body = slines[sb + 1:se]
        why = body_problem(body)
        if why:
            raise Refused(f"{rel}: YOUR CODE block {n} has {why}")
        ilines[ib + 1:ie] = body
    return "\n".join(ilines), warnings


def build_tree(instructor_files, student, dest):
    """Write the graded tree into dest. instructor_files: {rel: bytes} (every instructor file,
    hidden tests included). Returns the warnings; raises Refused."""
    check_tree(student)
    warnings = []
    for rel, data in sorted(instructor_files.items()):
        out = data
        if rel.endswith(markers.SOURCE_EXTS):
            itext = data.decode("utf-8", "surrogateescape")
            if markers.SOLUTION[0] in itext:
                text, w = splice_file(itext, read_student(student, rel), rel)
                warnings += w
                out = text.encode("utf-8", "surrogateescape")
        path = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(out)
        if data.startswith(b"#!"):
            os.chmod(path, 0o755)
    return warnings
