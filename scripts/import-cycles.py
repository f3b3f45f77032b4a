#!/usr/bin/env python3
"""Fails when a crate's files import each other in a circle.

    scripts/import-cycles.py [CRATE_SRC_DIR ...]     (default: core/src derive/src)

A file imports another when its code names an item the other file defines: through a `use`
line, or a path written inline (`crate::json::excerpt`, `super::Inner`). A path is followed
through modules and `pub use` re-exports to the file that defines the item, so
`crate::Error` is an import of `error.rs`, not of `lib.rs`. A `pub use` line is itself an
import of the file it names, except in the crate root, whose re-exports are the public
facade and not code that depends on anything. `mod` lines, comments, string literals and
`#[cfg(test)]` modules do not count. Any strongly connected group of two or more files is a
circle: each is printed with the names that tie it, and the exit code is 1.

rustc does not report module cycles (they are legal), and no kept tool reads `use` lines at
the level of files, so this is a small reader of its own.
"""

import re
import sys
from pathlib import Path

ITEM = re.compile(
    r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+|const\s+|unsafe\s+|extern\s+\"C\"\s+)*"
    r"(?:struct|enum|fn|trait|type|const|static|union|mod|macro_rules!)\s+(r#)?(\w+)",
    re.M,
)
USE = re.compile(r"\b((?:pub(?:\([^)]*\))?\s+)?)use\s+([^;]+);")
INLINE = re.compile(r"(?<![\w:])((?:crate|super|self)(?:::(?:\w+|super))+)")
MOD = re.compile(r"^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", re.M)


def strip(code):
    """Code without comments, string and char literals, and `#[cfg(test)]` modules."""
    code = blank(code)
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*mod\s+\w+\s*\{", code):
        if m.start() < i:
            continue
        out.append(code[i : m.start()])
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        i = j
    out.append(code[i:])
    return "".join(out)


def blank(code):
    """Comments and literals blanked out in one pass, so that neither hides the other."""
    out, i, n = [], 0, len(code)
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            j = code.find("\n", i)
            i = n if j < 0 else j
        elif code.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if code.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif code.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            out.append(" ")
        elif raw := re.match(r'b?r(#*)"', code[i : i + 300]):
            end = code.find('"' + raw.group(1), i + raw.end())
            i = n if end < 0 else end + 1 + len(raw.group(1))
            out.append('""')
        elif c == '"' or code.startswith('b"', i):
            i += 2 if c == "b" else 1
            while i < n and code[i] != '"':
                i += 2 if code[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'" and (lit := re.match(r"'(?:\\.[^']*|[^'\\])'", code[i : i + 12])):
            i += lit.end()
            out.append("' '")
        else:
            if c.isalnum() or c == "_":
                j = i
                while j < n and (code[j].isalnum() or code[j] == "_"):
                    j += 1
                out.append(code[i:j])
                i = j
                continue
            out.append(c)
            i += 1
    return "".join(out)


def expand(tree):
    """`a::{b, c::{d, e as f}}` → [(['a','b'], 'b'), (['a','c','d'], 'd'), (['a','c','e'], 'f')]."""
    tree = " ".join(tree.split())
    paths = []

    def walk(prefix, text):
        parts, depth, cur = [], 0, ""
        for ch in text:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += {"{": 1, "}": -1}.get(ch, 0)
            cur += ch
        parts.append(cur)
        for part in (p.strip() for p in parts):
            if not part:
                continue
            brace = part.find("{")
            if brace >= 0:
                head = [s for s in part[:brace].strip().rstrip(":").split("::") if s]
                walk(prefix + head, part[brace + 1 : part.rindex("}")])
                continue
            alias = None
            if " as " in part:
                part, alias = (s.strip() for s in part.split(" as ", 1))
            segs = [s.strip() for s in part.split("::") if s.strip()]
            full = prefix + segs
            if full and full[-1] == "self":
                full = full[:-1]
            if full:
                paths.append((full, alias or full[-1]))

    walk([], tree)
    return paths


class Crate:
    def __init__(self, src):
        self.src = Path(src)
        self.files = {}  # module path tuple -> file
        self.code = {}  # file -> stripped code
        root = self.src / ("lib.rs" if (self.src / "lib.rs").exists() else "main.rs")
        self.root = root
        self.load((), root)

    def load(self, modpath, file):
        code = strip(file.read_text())
        self.files[modpath] = file
        self.code[file] = code
        folder = file.parent if file.name in ("lib.rs", "main.rs", "mod.rs") else file.with_suffix("")
        for name in MOD.findall(code):
            for child in (folder / f"{name}.rs", folder / name / "mod.rs"):
                if child.exists():
                    self.load(modpath + (name,), child)
                    break

    def module_of(self, file):
        return next(m for m, f in self.files.items() if f == file)

    def defines(self, modpath, name):
        return any(m.group(2) == name for m in ITEM.finditer(self.code[self.files[modpath]]))

    def reexports(self, modpath):
        for m in USE.finditer(self.code[self.files[modpath]]):
            if m.group(1).strip():
                yield from expand(m.group(2))

    def absolute(self, modpath, segs):
        """The path from the crate root that `segs`, written in `modpath`, starts with."""
        segs = list(segs)
        if segs and segs[0] == "crate":
            return [], segs[1:]
        here = list(modpath)
        if segs and segs[0] == "self":
            segs = segs[1:]
        elif segs and segs[0] == "super":
            while segs and segs[0] == "super":
                here, segs = here[:-1], segs[1:]
        elif not (segs and tuple(here + [segs[0]]) in self.files):
            return None, None  # an external crate or a name of the prelude
        return here, segs

    def resolve(self, modpath, segs, seen=None):
        """The file that defines what `segs` names, written in module `modpath`."""
        seen = seen or set()
        here, rest = self.absolute(modpath, segs)
        if here is None:
            return None
        for i, seg in enumerate(rest):
            if tuple(here + [seg]) in self.files:
                here = here + [seg]
                continue
            return self.item(tuple(here), seg, seen)
        return self.files[tuple(here)]

    def item(self, modpath, name, seen):
        key = (modpath, name)
        if key in seen:
            return self.files[modpath]
        seen.add(key)
        if self.defines(modpath, name):
            return self.files[modpath]
        for path, alias in self.reexports(modpath):
            if alias == name:
                found = self.resolve(modpath, path, seen)
                if found:
                    return found
            if alias == "*":
                found = self.resolve(modpath, path[:-1] + [name], seen)
                if found and found != self.files[modpath]:
                    return found
        return self.files[modpath]

    def edges(self):
        out = {}
        for modpath, file in self.files.items():
            code = self.code[file]
            inline = inline_modules(code)
            targets = {}

            def add(at, segs, name):
                # A path inside an inline `mod name { … }` starts from that module, which
                # lives in this file: `super` first climbs out of it.
                nested = [n for (start, end, n) in inline if start <= at < end]
                while nested and segs and segs[0] == "super":
                    nested, segs = nested[:-1], segs[1:]
                if nested and segs and segs[0] in ("self", "super"):
                    return
                target = self.resolve(modpath, segs)
                if target and target != file:
                    targets.setdefault(target, set()).add(name)

            for m in USE.finditer(code):
                if m.group(1).strip() and file == self.root:
                    continue
                for path, _ in expand(m.group(2)):
                    if path[-1] != "*":
                        add(m.start(), path, path[-1])
            for m in INLINE.finditer(USE.sub(lambda u: " " * len(u.group(0)), code)):
                segs = m.group(1).split("::")
                add(m.start(), segs, segs[-1])
            out[file] = targets
        return out


def inline_modules(code):
    """(start, end, name) of each inline `mod name { … }` block, outermost first."""
    found = []
    for m in re.finditer(r"\bmod\s+(\w+)\s*\{", code):
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        found.append((m.end(), j, m.group(1)))
    return found


def circles(edges):
    """Tarjan's strongly connected components of two or more files."""
    index, low, stack, on, found, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return found


def main(dirs):
    failed = 0
    for src in dirs:
        crate = Crate(src)
        edges = crate.edges()
        groups = circles(edges)
        count = sum(len(t) for t in edges.values())
        print(f"{src}: {len(crate.files)} files, {count} file imports, {len(groups)} circles")
        for group in groups:
            failed += 1
            print("  circle:")
            members = set(group)
            for a in group:
                for b, names in sorted(edges[a].items()):
                    if b in members:
                        print(f"    {a} -> {b}: {', '.join(sorted(names))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["core/src", "derive/src"]))
