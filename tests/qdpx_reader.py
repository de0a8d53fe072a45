"""Check a .qdpx from outside the exporter: the XML against the published REFI-QDA schema
(lxml), and the project read back by pyqdpx, an independent reader of the format on PyPI.

pyqdpx (0.1.5 on Python 3.11; later releases need 3.12) counts positions like NVivo: a
character outside the Basic Multilingual Plane takes two positions (it appends a zero-width
space after each such character when it loads a source), so a selection's text read through
it is compared with those spaces removed.

    .venv/bin/python tests/qdpx_reader.py RUN_DIR/round.qdpx [N]

prints the validation result, the reader's counts and N selections with their text.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path
from typing import Any

from lxml import etree

XSD = Path(__file__).resolve().parents[1] / "pipeline" / "export" / "Project.xsd"
ZWSP = "\u200b"


def validate(path: Path) -> list[str]:
    """Schema errors of project.qde (empty when valid)."""
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    with zipfile.ZipFile(path) as z:
        doc = etree.fromstring(z.read("project.qde"))
    schema.validate(doc)
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def read_back(path: Path) -> dict[str, Any]:
    """What pyqdpx sees: sources, codes and selections (text as the reader slices it)."""
    from pyqdpx import QDPX

    project = QDPX(str(path)).get_project()
    assert project is not None, f"pyqdpx could not read {path}"
    selections = []
    for src in project.sources.values():
        for sel in src.coded_selections.values():
            selections.append({
                "source": src.name, "unit_id": sel._xml_tag.get("name"), "code": sel.code.name,
                "start": sel.start_position, "end": sel.end_position,
                "text": sel.text.replace(ZWSP, ""), "description": sel.description})
    return {
        "sources": {s.name: (s.text_content or "").replace(ZWSP, "")
                    for s in project.sources.values()},
        "codes": {c.name: c for c in project.codes.values()},
        "selections": selections,
    }


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    n = int(argv[1]) if len(argv) > 1 else 5
    errors = validate(path)
    print(f"{path.name}: project.qde is {'valid' if not errors else 'NOT valid'} against "
          f"{XSD.name} (REFI-QDA QDA-XML 1.0)")
    for e in errors[:20]:
        print("  " + e)
    back = read_back(path)
    codable = sum(c.is_codable for c in back["codes"].values())
    print(f"pyqdpx: {len(back['sources'])} sources, {len(back['codes'])} codes "
          f"({codable} codable), {len(back['selections'])} coded selections")
    step = max(1, len(back["selections"]) // n)
    for sel in back["selections"][::step][:n]:
        print(f"- [{sel['source']}] {sel['start']}–{sel['end']} {sel['code']} "
              f"({sel['unit_id']}): {sel['text']}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
