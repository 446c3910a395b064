"""The graded tree: the instructor's tree, byte for byte, except the bodies of its
/* BEGIN SOLUTION */ blocks, which come from the student's /* BEGIN YOUR CODE */ blocks of the
same file (matched in order). Everything else the student changed is ignored (and reported).

The submission is read defensively: a symlink, device, FIFO or socket anywhere in it, or a
path that resolves outside it, refuses the whole submission (never followed, never quoted);
files are opened with O_NOFOLLOW and checked to be regular. A student body that could act
outside its function (closing the function's brace, any directive but #pragma omp/GCC unroll
and balanced conditionals, token pasting, attributes, inline assembly) is refused too: such code would run before any test, or rewrite instructor code after the block."""
import json
import os
import re
import stat
import subprocess

from . import CourseError, markers

SKIP_DIRS = {".git", "build", "builddir"}
MAX_FILE = 2 << 20  # bytes: a source file larger than this is not a submission
# Identifiers a solution body has no use for and an attack does (attributes: run code at load
# time, emit sections, alias symbols the tests call; _Pragma: a directive the line check cannot
# see). Compared with leading/trailing underscores stripped (gcc reads __section__ as section).
FORBIDDEN_WORDS = {"attribute", "declspec", "Pragma", "constructor", "destructor", "section",
                   "init_priority", "ifunc", "alias", "weakref", "visibility", "symver"}
ASM_WORD = "asm"
# The one asm a body may hold: the empty template with operands, a compiler barrier. volatile
# and a ':' are required, so it cannot be an asm label renaming a declaration.
EMPTY_ASM = re.compile(r'_*asm_*\s*(?:volatile|__volatile__)\s*\(\s*""\s*:')
# The only directives a body may hold. No #define/#undef: a macro outlives the block (through
# a dead #if branch, push_macro, a pasted ## name), and #undef removes instructor macros.
# Conditionals cannot change any macro, so #if/#ifdef/... stay (for #ifdef _OPENMP).
CONDITIONALS = ("if", "ifdef", "ifndef", "elif", "else", "endif")
PRAGMA = re.compile(r"#\s*pragma\s+(?:omp\s+(?:parallel|for|simd|barrier|critical|atomic|single|"
                    r"masked|master|task|taskwait|taskloop|ordered|flush)\b"
                    r"|GCC\s+(?:unroll\s+\d+|ivdep)\s*$)")


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
    first, so only code counts. Allowed directives: #pragma omp <construct>, #pragma GCC
    unroll N / ivdep, and #if/#ifdef/#ifndef/#elif/#else/#endif balanced inside the body with
    each branch brace-balanced. So on every preprocessor path the body stays inside its
    function and leaves the macros as it found them."""
    text = "\n".join(body_lines)
    if _unterminated(text):
        return "an unterminated comment or string literal (it would swallow instructor code)"
    code = markers._blank_comments_and_strings(text)
    if re.search(r"<%|%>|%:|<:|:>|\?\?[=/'()!<>-]", code):
        return "a digraph or trigraph (braces and directives in disguise)"
    if any(ln.rstrip().endswith("\\") for ln in body_lines):
        return "a line continuation (it would join the next line, even after a // comment)"
    if "\\" in code:
        return "a backslash outside a string (a universal character name spelling an identifier)"
    if re.search(r"\[\s*\[", code):
        return "a [[...]] attribute"
    depth, opened = 0, []
    for ln in code.split("\n"):
        s = ln.strip()
        if s.startswith("#"):
            d = re.match(r"#\s*(\w*)", s).group(1)
            if d == "pragma":
                if not PRAGMA.match(s):
                    return "a #pragma other than omp <construct>, GCC unroll N or GCC ivdep"
                continue
            if d not in CONDITIONALS:
                return f"a preprocessor directive (#{d}): only #pragma omp/GCC unroll and conditionals are allowed"
            # Each branch may open braces, but every branch of one conditional (the missing
            # #else counts as an empty one) must end at the same depth: then the depth after
            # the #endif, and so the block's balance, is the same on every preprocessor path.
            if d in ("if", "ifdef", "ifndef"):
                opened.append([depth, None, False])  # start depth, branches' end depth, #else seen
                continue
            if not opened:
                return f"#{d} without its #if"
            start, end, _ = opened[-1]
            if end is not None and depth != end:
                return f"conditional branches that leave different brace depths (at #{d})"
            opened[-1][1] = depth
            if d == "endif":
                if not opened[-1][2] and depth != start:
                    return "an #if without #else whose branch leaves braces open"
                opened.pop()
            else:
                opened[-1][2] = opened[-1][2] or d == "else"
                depth = start
            continue
        if "#" in s:
            return "a '#' outside a directive (stringizing or token pasting)"
        for c in ln:
            depth += c == "{"
            depth -= c == "}"
            if depth < 0:
                return "a '}' that closes the enclosing function (code outside the block)"
            if opened and depth < opened[-1][0]:
                return "a conditional branch with unbalanced braces"
    if opened:
        return "an #if without its #endif"
    if depth:
        return "unbalanced braces"
    for m in re.finditer(r"[A-Za-z_]\w*", code):
        word = m.group(0).strip("_")
        if word == ASM_WORD and not EMPTY_ASM.match(text, m.start()):
            return "inline assembly (only the empty compiler barrier __asm__ volatile(\"\" : ...) is allowed)"
        if word in FORBIDDEN_WORDS:
            return f"'{m.group(0)}' (attributes, _Pragma and load-time or symbol tricks are not allowed)"
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


def spliced(instructor_files):
    """The sources that hold solution blocks (where student bodies go)."""
    return {rel for rel, data in instructor_files.items()
            if rel.endswith(markers.SOURCE_EXTS) and markers.SOLUTION[0].encode() in data}


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


# Sections the loader runs before main (or at exit). No object compiled from a spliced file
# holds one in the instructor's tree (course/tests/splice_unit_test checks), so one in a
# student build means the body check missed a way to run code at load time.
STARTUP_SECTIONS = (".init_array", ".preinit_array", ".ctors", ".dtors", ".fini_array")
STARTUP_TYPES = ("INIT_ARRAY", "PREINIT_ARRAY", "FINI_ARRAY")


def startup_sections(obj):
    """The load-time sections of an object file (by name or by ELF type)."""
    r = subprocess.run(["readelf", "-W", "-S", obj], capture_output=True, text=True)
    found = []
    for m in re.finditer(r"^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)", r.stdout, re.M):
        name, kind = m.groups()
        if kind in STARTUP_TYPES or any(name == s or name.startswith(s + ".") for s in STARTUP_SECTIONS):
            found.append(name)
    return found


def check_objects(work, build, rels):
    """Refused when an object compiled from one of rels (the spliced sources) holds a
    load-time section. Run after the build and before any student code: meson's
    compile_commands.json and the objects are the tools' work only then."""
    try:
        with open(os.path.join(build, "compile_commands.json")) as f:
            commands = json.load(f)
    except (OSError, ValueError) as e:
        raise Refused(f"the build has no readable compile_commands.json ({type(e).__name__})") from None
    for c in commands:
        rel = os.path.relpath(os.path.join(c["directory"], c["file"]), work)
        obj = os.path.join(c["directory"], c["output"])
        if rel in rels and os.path.isfile(obj) and not os.path.islink(obj):
            found = startup_sections(obj)
            if found:
                raise Refused(f"{rel}: its object holds {found[0]}, code the loader runs before any test")
