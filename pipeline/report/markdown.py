"""report.md: the same five sections as the HTML, in plain Markdown for pasting into documents.

Every string that comes from a run (transcript text, labels, metadata) goes through `md()`,
which backslash-escapes Markdown syntax and turns `<`, `>` and `&` into entities, so a quote
can neither format, link nor inject HTML wherever the Markdown is rendered.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.config import Config
from pipeline.report.charts import pct
from pipeline.report.comments import markdown_lines
from pipeline.report.html import config_yaml, when
from pipeline.report.model import NO_AREA, Quote, RunData, Theme, section_numbers, show_role

# Characters that format or link anywhere in a line (tables split on `|`).
_INLINE = re.compile(r"([\\`*_\[\]|~])")
# At the start of a line these open a heading, list, quote or setext underline.
_LEAD = re.compile(r"^([#+=-])")
_LEAD_NUM = re.compile(r"^(\d+)([.)])")
# GFM turns bare URLs and www. names into links; a backslash keeps them text.
_AUTOLINK = re.compile(r"(?i)(://|www\.)")


def md(value: Any) -> str:
    """Inline-safe Markdown text: one line that renders as itself, with no markup, HTML
    or links. Only characters that can act are escaped, so the raw file stays readable."""
    if value is None:
        return ""
    s = " ".join(str(value).split())
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _INLINE.sub(r"\\\1", s)
    s = _AUTOLINK.sub(lambda m: "\\" + m.group(1) if m.group(1) == "://"
                      else m.group(1)[:3] + "\\.", s)
    s = _LEAD.sub(r"\\\1", s)
    return _LEAD_NUM.sub(r"\1\\\2", s)


def code(value: Any) -> str:
    # A code span cannot be escaped from inside; drop backticks so it always closes.
    s = " ".join(str(value or "").split()).replace("`", "'")
    return f"`{s}`" if s else ""


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return [*out, ""]


def _lab(L: dict[str, str], prefix: str, key: str | None) -> str:
    return md(L.get(f"{prefix}{key}", key) if key else L["unknown"])


def _counts(items: list[tuple[str, int]], L: dict[str, str]) -> str:
    return "、".join(f"{md(k or L['unknown'])} {n}" for k, n in items)


def _quote(q: Quote, L: dict[str, str]) -> list[str]:
    who = md(q.speaker or L["unknown"]) + (f"（{_lab(L, 'role_', q.role)}）"
                                          if show_role(q, L) else "")
    bits = [md(b) for b in (q.session_date, q.session_type, q.session_location) if b]
    ses = md(q.session_title or q.session_id or "") + (f"（{'，'.join(bits)}）" if bits else "")
    cite = " · ".join(x for x in (who, ses, code(q.source)) if x)
    return [f"> {md(q.text)}", ">", f"> — {cite}", ""]


def _theme_facts(t: Theme, L: dict[str, str]) -> str:
    s = f"{L['share']} {pct(t.share)} · {t.size} {L['area_units']}"
    if t.by_type:
        s += f" · {L['raised_by_types']}：{_counts(t.by_type, L)}"
    if t.by_location:
        s += f" · {L['raised_in_locations']}：{_counts(t.by_location, L)}"
    return s


def render_markdown(run: RunData, cfg: Config, L: dict[str, str]) -> str:
    rc = cfg.report
    out: list[str] = [f"# {md(L['title'])}", "", f"{md(run.round)} · {L['subtitle']}", ""]

    # 1. overview
    out += [f"## 1. {L['overview']}", ""]
    facts = [
        (L["round"], md(run.round)), (L["run_id"], code(run.run_id)),
        (L["config_hash"], code(run.config_hash)),
        (L["run_time"], md(when(run.finished or run.started or "", L["taiwan_time"]))),
        (L["sessions"], str(len(run.sessions))),
        (L["units_analysed"], f"{run.n_analysed} / {run.n_units}"),
        (L["n_themes"], str(len(run.themes))), (L["outlier_share"], pct(run.outlier_share)),
    ]
    if run.mapped:
        facts += [(L["coverage"], L["coverage_text"].format(
            covered=len(run.covered_areas), total=len(run.areas))),
            (L["gap_count"], str(len(run.gaps)))]
    out += [f"- **{k}**：{v}" for k, v in facts] + [""]
    for key, attr in (("sessions_by_type", "type"), ("sessions_by_location", "location")):
        counts: dict[str, int] = {}
        for s in run.sessions:
            counts[getattr(s, attr) or L["unknown"]] = counts.get(getattr(s, attr)
                                                                  or L["unknown"], 0) + 1
        out += [f"**{L[key]}**", ""]
        out += table([L["session_type" if attr == "type" else "location"], L["sessions"]],
                     [[md(k), str(n)] for k, n in sorted(counts.items(), key=lambda x: -x[1])])
    out += [f"**{L['session_list']}**", ""]
    out += table([L["date"], L["session_title"], L["session_type"], L["location"], L["file"],
                  f"{L['analysed']} / {L['units']}"],
                 [[md(s.date), md(s.title or s.id), md(s.type or L["unknown"]),
                   md(s.location or L["unknown"]), code(s.file), f"{s.analysed} / {s.units}"]
                  for s in run.sessions])
    for n in run.notes:
        if n.startswith("missing:"):
            out.append(f"> {L['missing_file'].format(file=md(n[8:]))}")
        elif n == "mapping":
            out.append(f"> {L['mapping_missing']}")
    if run.notes:
        out.append("")

    # 2. feedback into strategy
    out += [f"## 2. {L['strategy']}", ""]
    if not run.themes:
        out += [f"> {L['no_themes']}", ""]
    elif not run.mapped:
        out += [f"> {L['not_mapped']}", ""]
    else:
        basis = L.get(f"basis_{run.area_share_basis}", "") if run.area_share_basis else ""
        out += [f"{L['strategy_intro']} {basis}".strip(), ""]
        for a in run.covered_areas:
            share = (f"（{L['area_share']} {pct(a.share)}"
                     + (f"，{a.n_units} {L['area_units']}" if a.n_units is not None else "")
                     + "）") if a.share is not None else ""
            name = md(a.name) if a.name != a.id else ""
            out += [f"### {md(a.id)} {name}{share}", ""]
            if a.description:
                out += [md(a.description), ""]
            for e in a.entries:
                tag = (f"★ {L['primary_area']}" + (
                    f" · {L['confidence']} {e.theme.key_area_confidence:.2f}"
                    if e.theme.key_area_confidence is not None else "")) if e.primary else (
                    f"{L['secondary_area']}" + (f" · {L['share_of_theme']} "
                                                f"{pct(e.share_of_theme, 0)}"
                                                if e.share_of_theme is not None else ""))
                out += [f"#### {md(e.theme.label)}（{tag}）", "", _theme_facts(e.theme, L), ""]
                for q in e.quotes:
                    out += _quote(q, L)
        uncovered = [a for a in run.areas if not a.entries]
        orphans = [a for a in uncovered if a.n_units]
        if orphans:
            out += [f"### {L['orphan_areas']}（{len(orphans)}）", "", L["orphan_intro"], ""]
            for a in orphans:
                name = md(a.name) if a.name != a.id else ""
                out += [f"#### {md(a.id)} {name}（{a.n_units} {L['area_units']}）", ""]
                for q in a.orphan_quotes:
                    out += _quote(q, L)
            uncovered = [a for a in uncovered if not a.n_units]
        if uncovered:
            out += [f"**{L['uncovered_areas']}**：" + "、".join(
                f"{md(a.id)} {md(a.name) if a.name != a.id else ''}".strip()
                for a in uncovered), ""]
        out += [f"### {L['gaps']}（{len(run.gaps)}）", ""]
        out += [L["gaps_intro"] if run.gaps else L["no_gaps"], ""]
        for t in run.gaps:
            out += [f"#### {md(t.label)}", "", _theme_facts(t, L), ""]
            if t.gap_reason:
                out += [f"{L['gap_reason']}：{md(t.gap_reason)}", ""]
            for q in t.quotes[: rc.area_quotes]:
                out += _quote(q, L)
        out += _focus(run, L)

    # 3. themes
    out += [f"## 3. {L['themes']}", ""]
    if not run.themes:
        out += [f"> {L['no_themes']}", ""]
    for i, t in enumerate(run.themes, 1):
        out += [f"### {L['theme_no']} {i}：{md(t.label)}", ""]
        line = f"- **{L['size']}**：{t.size}；**{L['share']}**：{pct(t.share)}"
        if t.gap:
            line += f"；**{L['gap_flag']}**"
        out.append(line)
        if t.keywords:
            out.append(f"- **{L['keywords']}**：" + "、".join(md(w) for w, _ in t.keywords))
        if t.areas:
            out.append(f"- **{L['mapped_areas']}**：" + "、".join(
                ("★ " if a.primary else "") + md(a.area_id)
                + (f" {md(a.name)}" if a.name != a.area_id else "")
                + (f" {pct(a.share, 0)}" if a.share is not None else "")
                + (f"（{L['confidence']} {t.key_area_confidence:.2f}）"
                   if a.primary and t.key_area_confidence is not None else "")
                for a in t.areas))
        if t.jt_dimensions:
            out.append(f"- **{L['jt_dimensions']}**：" + "、".join(md(x) for x in t.jt_dimensions))
        if t.focus:
            out.append(f"- **{L['focus']}**：{md(t.focus)}")
        if t.gap and t.gap_reason:
            out.append(f"- **{L['gap_reason']}**：{md(t.gap_reason)}")
        if t.reviewed:
            out.append(f"- ✓ {L['reviewed']}")
        out += [f"- {md(line)}" for line in t.curation_lines(L)]
        out.append("")
        if t.crosstab:
            ct = t.crosstab
            out += [f"**{L['where']}**", ""]
            out += table([""] + [md(c) for c in ct.cols] + [L["total"]],
                         [[md(r)] + [str(ct.cells.get((r, c), 0) or "") for c in ct.cols]
                          + [str(sum(ct.cells.get((r, c), 0) for c in ct.cols))]
                          for r in ct.rows])
        elif t.by_type or t.by_location:
            out += [f"{L['raised_by_types']}：{_counts(t.by_type, L)}",
                    "", f"{L['raised_in_locations']}：{_counts(t.by_location, L)}", ""]
        out += [f"**{L['quotes']}**（{len(t.quotes)}）", ""]
        for q in t.quotes:
            out += _quote(q, L)
        if t.official_quotes:
            out += [f"**{L['official_quotes'].format(n=len(t.official_quotes))}**", "",
                    L["official_quotes_note"], ""]
            for q in t.official_quotes:
                out += _quote(q, L)

    # 4. charts, as the tables behind them
    out += [f"## 4. {L['charts']}", ""]
    if not run.themes and not run.area_share_basis:
        out += [L["no_chart_data"], ""]
    if run.themes:
        out += [f"**{L['chart_sizes']}**", ""]
        out += table([L["theme_no"], L["size"], L["share"]],
                     [[md(t.label), str(t.size), pct(t.share)] for t in run.themes])
    types = list(run.type_totals)
    if types and run.themes:
        out += [f"**{L['chart_types']}**", ""]
        out += table([L["theme_no"]] + [md(k) for k in types],
                     [[md(t.label)] + [str(dict(t.by_type).get(k, 0)) for k in types]
                      for t in run.themes])
    m = run.matrix
    if m is not None and m.areas:
        out += [f"**{L['chart_matrix']}**", ""]
        cell = (lambda v: pct(v, 0)) if m.kind == "shares" else (lambda v: f"{v:g}")
        out += table([L["theme_no"]] + [md(L["none_share"] if a in NO_AREA else a)
                                        for a, _ in m.areas],
                     [[md(h)] + [cell(m.values.get((a, k), 0.0)) for a, _ in m.areas]
                      for k, h, _ in m.theme_cols])
    if run.area_share_basis:
        out += [f"**{L['chart_area_share']}**", ""]
        rows = [[md(a.id), md(a.name), pct(a.share),
                 str(a.n_units) if a.n_units is not None else ""] for a in run.areas]
        if run.none_share is not None:
            rows.append([md(L["none_share"]), "", pct(run.none_share), ""])
        out += table([L["filter_area"], "", L["area_share"], L["units"]], rows)

    sec = section_numbers(run)
    if run.participation is not None:
        out += _participation(run, L, sec["participation"])

    if run.comments is not None:
        out += markdown_lines(run.comments, L, sec["comments"])

    if run.compare:
        out += _changes(run, L, sec["changes"])

    # method and provenance
    out += [f"## {sec['method']}. {L['method']}", "", L["method_intro"], "",
            f"**{L['pipeline_steps']}**：{L['steps_text']}", "", f"### {L['models']}", ""]
    embed = run.config.get("embed") or {}
    rows = [[L["embedding_model"], code(" / ".join(str(embed[k]) for k in ("backend", "model")
                                                    if embed.get(k)))]] if embed else []
    rows += [[md(k), code(v)] for k, v in run.packages.items()]
    out += table([L["package"], L["version"]], rows)
    out += [f"### {L['inputs']}", ""]
    out += table([L["file"], L["sessions"], L["bytes"], L["encoding"], L["sha256"]],
                 [[code(i.get("file")), md(i.get("session_id")), md(i.get("bytes")),
                   md(i.get("encoding")), code(i.get("sha256"))] for i in run.inputs])
    if run.skipped:
        out += [f"### {L['skipped']}", ""]
        out += table([L["file"], L["reason"]],
                     [[code(s.get("file")), md(s.get("reason"))] for s in run.skipped])
    out += [f"### {L['exclusions']}", ""]
    rows = [[_lab(L, "reason_", k), str(n)] for k, n in run.excluded]
    if run.n_outliers is not None:
        rows.append([L["outliers"], str(run.n_outliers)])
    out += table([L["excluded_units"], L["count"]], rows)
    if run.redactions:
        out += table([L["redactions"], L["count"]],
                     [[_lab(L, "redact_", k), str(n)] for k, n in run.redactions])
    if run.procedural_kinds:
        out += table([L["procedural_kinds"], L["count"]],
                     [[_lab(L, "pkind_", k), str(n)] for k, n in run.procedural_kinds])
    if run.courtesy is not None:
        cc = cfg.themes.courtesy
        out += [f"### {L['courtesy_check']}", "", run.courtesy_sentence(L), "",
                L["courtesy_note"].format(top=cc.top_keywords, hits=cc.min_hits), ""]
    if run.speakers:
        out += [f"### {L['speaker_roles']}", "", L["speaker_roles_intro"], ""]
        out += table([L["role"], L["speakers_n"], L["units_n"]],
                     [[_lab(L, "role_", r), str(n), str(u)] for r, n, u in run.speaker_roles])
        if run.inferred_speakers:
            out += [f"**{L['inferred_speakers']}**", ""]
            out += table([L["speaker"], L["session"], L["role"], L["why"]],
                         [[md(s.get("speaker")), md(s.get("session_id")),
                           _lab(L, "role_", s.get("role"))
                           + (f"（{md(s['body'])}）" if s.get("body") else ""),
                           md(run.why(s, L))] for s in run.inferred_speakers])
    if run.stages:
        out += [f"### {L['stages']}", ""]
        out += table([L["stage"], L["seconds"]],
                     [[md(k), md(v.get("seconds", ""))] for k, v in run.stages.items()])
    hidden = "[hidden: {n}]" if rc.language == "en" else "［已隱藏 {n} 項］"
    fence = "~~~~~~~~"  # longer than any run of tildes YAML could hold, so the block closes
    out += [f"### {L['config']}", "", f"{fence}yaml",
            config_yaml(run.config, hidden).replace("~~~~~~~~", "~ ~ ~ ~").rstrip(), fence, "",
            "---", "", f"{L['generated_by']} {L['run_id']} {code(run.run_id)}", ""]
    return "\n".join(out)


def _focus(run: RunData, L: dict[str, str]) -> list[str]:
    """諮商重點: which consultation focus the round's strategy-related feedback concerned."""
    F = run.focus
    out = [f"### {L['focus_section']}", ""]
    if F is None:
        return [*out, L["focus_missing"], ""]
    n = F.n_area_units
    out += [L["focus_intro"], "", f"{L['focus_units']}：{n}；" + "；".join(
        f"{md(name)} {F.totals[fid]}（{pct(F.totals[fid] / n, 0)}）" for fid, name in F.focuses)
        + f"；{L['focus_none']} {F.totals['']}（{pct(F.totals[''] / n, 0)}）", ""]
    for title, col, rows in ((L["focus_by_type"], L["session_type_col"], F.by_type),
                             (L["focus_by_area"], L["area_col"], F.by_area)):
        out += [f"#### {title}", ""]
        out += table([col, L["focus_units"], *(md(nm) for _, nm in F.focuses), L["focus_none"]],
                     [[md(r.name if r.name == r.key else f"{r.key} {r.name}"), str(r.n),
                       *(f"{r.counts[f]}（{pct(r.counts[f] / r.n, 0)}）" if r.counts[f] else "0"
                         for f, _ in F.focuses), str(r.counts[""])] for r in rows])
        out.append("")
    out += [f"#### {L['focus_quotes']}", ""]
    for fid, name in F.focuses:
        if not F.quotes.get(fid):
            continue
        out += [f"**{md(name)}**", ""]
        for q in F.quotes[fid]:
            out += _quote(q, L)
            if F.evidence.get(q.unit_id):
                out += [f"  {L['focus_evidence']}：{md(F.evidence[q.unit_id])}", ""]
    return out


def _participation(run: RunData, L: dict[str, str], n: int) -> list[str]:
    cm = run.participation
    out = [f"## {n}. {L['participation']}", "", L["participation_intro"], ""]
    rows = cm.org_summary.to_dict("records")
    flagged = [r for r in rows if r["flagged"]]
    if flagged:
        rule = L["over_mobilisation_rule"].format(n=cm.max_sessions)
        out += [f"**{L['over_mobilisation']}**（{rule}）", ""]
        out += [f"- {md(r['organisation'])}：{md(r['reason'])}；{md('、'.join(r['session_ids']))}"
                for r in flagged]
        out += [""]
    else:
        out += [L["no_over_mobilisation"].format(n=cm.max_sessions), ""]
    sids = [str(c) for c in cm.org_sessions.columns]
    out += [f"**{L['chart_org_sessions']}**", ""]
    out += table([L["organisation"], *map(md, sids)],
                 [[md(org)] + ["●" if v else "" for v in present.tolist()]
                  for org, present in cm.org_sessions.iterrows()])
    out += [f"**{L['org_table']}**", ""]
    out += table([L["organisation"], L["sessions"], L["session_types"], L["locations"],
                  L["org_top_themes"], L["flag"]],
                 [[md(r["organisation"]) + (f"（{L['organiser']}）" if r["organiser"] else ""),
                   str(r["sessions"]), md("、".join(r["session_types"])),
                   md("、".join(r["locations"])),
                   md("；".join(f"{t['label']}（{t['units']}）" for t in r["top_themes"])),
                   md(r["reason"] or "")] for r in rows])
    return out


def _changes(run: RunData, L: dict[str, str], n: int) -> list[str]:
    d = run.compare
    c = d["counts"]
    out = [f"## {n}. {L['changes']}", "",
           md(L["changes_intro"].format(round=d["runs"]["a"]["round"],
                                        run_id=d["runs"]["a"]["run_id"])), ""]
    out += table([L["matched_themes"], L["status_growing"], L["status_shrinking"],
                  L["new_themes"], L["vanished_themes"], L["merged_themes"], L["split_themes"]],
                 [[str(c[k]) for k in ("matched", "growing", "shrinking", "new", "vanished",
                                       "merged", "split")]])
    tr = run.tracking
    if tr:
        out += [f"**{L['tracking']}**（{L['tracking_note']}）", ""]
        out += table([L["theme_no"], L["status"], *(md(r["round"]) for r in tr["rounds"])],
                     [[md(t["label"]), md(L.get(f"status_{t['status']}", t["status"]))]
                      + [pct(v) if v is not None else "–" for v in t["shares"]]
                      for t in tr["themes"]])
        if tr["vanished"]:
            out += [f"**{L['vanished_themes']}**", ""]
            out += table([L["theme_no"], L["last_seen"], L["share"]],
                         [[md(v["label"]), md(v["round"]), pct(v["share"])]
                          for v in tr["vanished"]])
    for m in d["merged"]:
        out += [f"- {L['status_merged']}：" + "＋".join(md(f["label"]) for f in m["from"])
                + f" → {md(m['into']['label'])}"]
    for m in d["split"]:
        out += [f"- {L['status_split']}：{md(m['from']['label'])} → "
                + "／".join(md(f["label"]) for f in m["into"])]
    if d["merged"] or d["split"]:
        out += [""]
    out += [f"**{L['mapping_changes']}**", ""]
    out += [f"- {md(x['b']['label'])}：" + "；".join(f"{k} {md(v['a'])} → {md(v['b'])}"
                                                  for k, v in x["changes"].items())
            for x in d["mapping_changes"]] or [L["none_listed"]]
    out += ["", f"**{L['config_changes']}**", ""]
    out += [f"- {code(x['key'])}：{md(x['a'])} → {md(x['b'])}"
            for x in d["config_changes"]] or [L["none_listed"]]
    return [*out, ""]
