"""Reading the YAML files analysts write (config, round.yaml, rounds.yaml, curation, the
framework) within fixed budgets, so a hostile or broken file is a one-line error in
milliseconds instead of minutes of CPU and gigabytes of memory.

Budgets, checked while the file is composed (before any Python object is built):
- size: at most `MAX_BYTES`; only regular files (not folders, devices such as /dev/zero,
  pipes), and the file is never read past the limit;
- nesting: at most `MAX_DEPTH` levels (PyYAML composes recursively, so a deeper file would
  end in a RecursionError);
- aliases: the document with every alias expanded may hold at most `MAX_NODES` nodes
  (a 342-byte "billion laughs" file expands to 10⁹; real files hold a few thousand).
They are fixed here rather than in the config because the config itself is read with them.

Dates stay text (no YAML timestamps): `date: 2023-13-45` would otherwise raise a bare
ValueError inside PyYAML; the manifest validates dates itself (pipeline/dates.py).
Text is decoded like transcripts (UTF-8, UTF-16 with BOM, Big5/CP950; ingest/decode.py).
"""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 50
MAX_NODES = 200_000


class YamlBudgetError(yaml.MarkedYAMLError):
    """A YAML file over one of the budgets above (a YAMLError, so every caller's syntax-error
    handling reports it with its line)."""


class FileBudgetError(ValueError):
    """The file cannot be read as a YAML file at all (not a file, too large, not text)."""


def _no_timestamps() -> dict[str, list[Any]]:
    return {k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
            for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


class BudgetLoader(yaml.SafeLoader):
    """SafeLoader that counts nesting and alias-expanded nodes while composing."""

    yaml_implicit_resolvers = _no_timestamps()

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._expanded: dict[str, int] = {}  # anchor -> nodes its value expands to

    def _over(self, problem: str) -> YamlBudgetError:
        return YamlBudgetError(problem=problem, problem_mark=self.peek_event().start_mark)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._nodes += self._expanded.get(event.anchor or "", 1)
            if self._nodes > MAX_NODES:
                raise self._over(f"aliases expand the document to more than {MAX_NODES:,} "
                                 "values (a YAML bomb?); write the values out instead of "
                                 "using anchors (&) and aliases (*)")
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise self._over(f"nested more than {MAX_DEPTH} levels deep")
        before = self._nodes
        self._nodes += 1
        anchor = getattr(event, "anchor", None)
        node = super().compose_node(parent, index)
        self._depth -= 1
        if anchor:
            self._expanded[anchor] = self._nodes - before
        return node


def load(text: str) -> Any:
    """The document's data (like yaml.safe_load), within the budgets."""
    return load_with_nodes(text)[0]


def compose(text: str) -> yaml.Node | None:
    """The document's node tree (for line numbers), within the budgets."""
    return load_with_nodes(text)[1]


def load_with_nodes(text: str) -> tuple[Any, yaml.Node | None]:
    """Data and node tree from one pass over the text."""
    _check_flow_depth(text)
    loader = BudgetLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


# What can open or close a flow collection, start or end a quoted string, or a comment.
_FLOW_SYNTAX = re.compile(r"""[\[\]{}'"#\n\\]""")


def _check_flow_depth(text: str) -> None:
    """Flow nesting (`[[[…`) checked on the raw text: PyYAML's scanner reads a whole flow
    collection ahead before the composer sees its first level, in time quadratic in its
    depth (10,000 brackets take minutes), so composing cannot stop it early enough."""
    depth, quote, comment, escaped, line = 0, "", False, False, 1
    prev = -2
    for m in _FLOW_SYNTAX.finditer(text):
        ch, at = m.group(), m.start()
        if ch == "\n":
            line += 1
            comment = False
            if quote == '"':
                escaped = False
            continue
        if comment:
            continue
        if quote:
            if quote == '"' and ch == "\\":
                escaped = not escaped if prev == at - 1 else True
            elif ch == quote and not (quote == '"' and escaped and prev == at - 1):
                quote = ""
            if ch != "\\":
                escaped = False
            prev = at
            continue
        if ch in "'\"" and _starts_scalar(text, at):
            quote = ch
        elif ch == "#" and (at == 0 or text[at - 1] in " \t\n"):
            comment = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlBudgetError(
                    problem=f"nested more than {MAX_DEPTH} levels deep",
                    problem_mark=yaml.Mark("<text>", at, line - 1, 0, None, None))
        elif ch in "]}":
            depth = max(depth - 1, 0)
        prev = at


def _starts_scalar(text: str, at: int) -> bool:
    """A quote opens a quoted scalar only where a value starts (`it's` is plain text)."""
    i = at - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] in "\n:-[{,?"


def read_text(path: Path, what: str = "YAML file") -> str:
    """The text of a YAML file, refusing what is not a small regular text file.

    Raises FileNotFoundError when it does not exist (callers phrase that themselves) and
    FileBudgetError, whose message says what to do, for everything else.
    """
    path = Path(path)
    st = path.stat()
    if stat.S_ISDIR(st.st_mode):
        raise FileBudgetError(f"{path}: is a folder, not a {what}. give the path of the file")
    if not stat.S_ISREG(st.st_mode):
        raise FileBudgetError(f"{path}: is not a regular file (a device or pipe?). "
                              f"give the path of a {what}")
    with path.open("rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise FileBudgetError(f"{path}: too large for a {what} (over {MAX_BYTES // 2**20} MB). "
                              "check that this is the right file")
    # Lazy: ingest imports the config, which reads its files with this module.
    from pipeline.ingest.decode import decode_text
    from pipeline.source import InputError

    try:
        return decode_text(path, data)[0]
    except InputError as e:
        raise FileBudgetError(f"{path}: {e.reason}. give the path of a {what} "
                              "(text saved as UTF-8 or Big5)") from e
