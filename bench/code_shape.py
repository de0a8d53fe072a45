"""The shape of the package, read from the code: modules, the deepest chain of imports between
them, the largest modules and functions.

    .venv/bin/python bench/code_shape.py [PACKAGE_DIR]

Imports are followed inside the package only (`pipeline.*`), at any depth in a module (imports
inside functions count: they are dependencies too).
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def modules(pkg: Path) -> dict[str, Path]:
    out = {}
    for p in sorted(pkg.rglob("*.py")):
        rel = p.relative_to(pkg.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            while n and n not in known:
                n = n.rsplit(".", 1)[0] if "." in n else ""
            if n and n != name:
                found.add(n)
    return found


def main() -> None:
    pkg = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "pipeline"
    mods = modules(pkg)
    graph = {m: imports(p, m, set(mods)) for m, p in mods.items()}

    @cache
    def chain(m: str, seen: frozenset[str] = frozenset()) -> tuple[str, ...]:
        best: tuple[str, ...] = ()
        for d in sorted(graph[m]):
            if d in seen:
                continue
            c = chain(d, seen | {m})
            if len(c) > len(best):
                best = c
        return (m, *best)

    deepest = max((chain(m) for m in mods), key=len)

    # The same with a package's __init__ that only re-exports (no def/class) seen through:
    # `a → pkg → pkg.mod` counts as `a → pkg.mod`, so packages are not charged a level.
    def reexports_only(m: str) -> bool:
        p = mods[m]
        return p.name == "__init__.py" and not any(
            isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            for n in ast.parse(p.read_text(encoding="utf-8")).body)

    def through(d: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if not reexports_only(d) or d in seen:
            return {d}
        return set().union(*(through(x, seen | {d}) for x in graph[d])) if graph[d] else set()

    flat = {m: set().union(*(through(d) for d in ds)) - {m} if ds else set()
            for m, ds in graph.items()}

    @cache
    def flat_chain(m: str, seen: frozenset[str] = frozenset()) -> tuple[str, ...]:
        best: tuple[str, ...] = ()
        for d in sorted(flat[m]):
            if d not in seen:
                c = flat_chain(d, seen | {m})
                if len(c) > len(best):
                    best = c
        return (m, *best)

    flat_deepest = max((flat_chain(m) for m in mods if not reexports_only(m)), key=len)
    sizes = sorted(((sum(1 for _ in p.open(encoding="utf-8")), m) for m, p in mods.items()),
                   reverse=True)
    funcs = []
    for m, p in mods.items():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                funcs.append((node.end_lineno - node.lineno + 1, f"{m}.{node.name}"))
    funcs.sort(reverse=True)
    print(f"modules: {len(mods)} (packages: {sum(p.name == '__init__.py' for p in mods.values())})")
    print(f"deepest import chain: {len(deepest)} levels: {' → '.join(deepest)}")
    print(f"deepest chain, re-exporting packages seen through: {len(flat_deepest)} levels: "
          f"{' → '.join(flat_deepest)}")
    print("largest modules (lines): " + ", ".join(f"{m} {n}" for n, m in sizes[:6]))
    print(f"modules over 500 lines: {sum(n > 500 for n, _ in sizes)}")
    print("largest functions (lines): " + ", ".join(f"{f} {n}" for n, f in funcs[:6]))
    print(f"functions over 60 lines: {sum(n > 60 for n, _ in funcs)}")


if __name__ == "__main__":
    main()
