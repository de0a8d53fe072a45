"""Themes: filters and quote search, the list, one card per theme (keywords, where it was
raised, areas, quotes). Owns the themes, quotes and units sheets of the workbook."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from pipeline.config import Config
from pipeline.report.charts import pct
from pipeline.report.mdtext import counts_text, md, quote, table
from pipeline.report.model import RunData, Theme
from pipeline.report.sections.base import Labels, Section, Sheet
from pipeline.units import analysed_mask, best_theme_per_unit
from pipeline.values import text_or_none

HTML = r"""<section id="themes">
<h2>{{ n }}. {{ L.themes }}</h2>
{% if not run.themes %}
<p class="note">{{ L.no_themes }}</p>
{% else %}
<form class="filters" id="filters" hidden aria-label="{{ L.theme_filter }}">
<label>{{ L.filter_area }}
<select id="f-area"><option value="">{{ L.filter_all }}</option>
{% for v, t in options.areas %}<option value="{{ v }}">{{ t }}</option>{% endfor %}
{% if run.mapped %}<option value="__gap__">{{ L.filter_gap }}</option>{% endif %}
{% if has_none %}<option value="__none__">{{ L.filter_none }}</option>{% endif %}
</select></label>
<label>{{ L.filter_type }}
<select id="f-type"><option value="">{{ L.filter_all }}</option>
{% for v, t in options.types %}<option value="{{ v }}">{{ t }}</option>{% endfor %}
</select></label>
<label>{{ L.filter_location }}
<select id="f-loc"><option value="">{{ L.filter_all }}</option>
{% for v, t in options.locations %}<option value="{{ v }}">{{ t }}</option>{% endfor %}
</select></label>
<label class="grow">{{ L.search_all }}
<input id="f-q" type="search" placeholder="{{ L.search_all_placeholder }}" autocomplete="off"></label>
<button type="reset" id="f-clear">{{ L.clear_filters }}</button>
<button type="button" id="f-expand">{{ L.expand_all }}</button>
<p class="status" id="f-status" aria-live="polite"></p>
</form>
<div class="search-results" id="search-results" hidden>
<p class="facts">{{ L.search_note.format(n=run.n_analysed) }}</p>
<p class="status" id="sr-status" aria-live="polite"></p>
<ol class="quotes" id="sr-list"></ol>
</div>
<ol class="toc" id="theme-list">
{% for t in run.themes %}<li data-theme="{{ t.anchor }}"><a href="#{{ t.anchor }}">{{ t.ref }}</a> <span class="n">{{ t.size }}</span>{% if t.gap %} <span class="tag gap">{{ L.gap_flag }}</span>{% endif %}</li>{% endfor %}
</ol>
{% for t in run.themes %}
<article class="theme-card" id="{{ t.anchor }}" data-theme="{{ t.anchor }}">
<header>
<h3><span class="num">{{ L.theme_no }} {{ t.number }}</span> {{ t.label }}</h3>
<p class="badges"><span class="pill">{{ L.size }} {{ t.size }}</span><span class="pill">{{ L.share }} {{ t.share|pct }}</span>
{% set agree = t.agreement_text(L) %}{% if agree %}<span class="pill agree" title="{{ L.agreement_intro }}">{{ agree }}</span>{% endif %}
{% if t.key_area %}<span class="pill area">★ {{ t.key_area }} {{ t.areas[0].name if t.areas and t.areas[0].area_id == t.key_area and t.areas[0].name != t.key_area else "" }}</span>{% endif %}
{% if t.gap %}<span class="pill warn">{{ L.gap_flag }}</span>{% endif %}
{% if t.id in courtesy_ids %}<span class="pill warn" title="{{ L.courtesy_flag_note }}">{{ L.courtesy_flag }}</span>{% endif %}
{% if t.curated %}<span class="pill">{{ L.curated }}</span>{% endif %}
{% if t.label_curated %}<span class="pill">{{ L.label_curated }}</span>{% endif %}
{% if t.reviewed %}<span class="pill">✓ {{ L.reviewed }}</span>{% endif %}</p>
</header>
{% if t.keywords %}<p class="kw"><span class="k">{{ L.keywords }}</span>{% for w, _ in t.keywords %}<span class="chip">{{ w }}</span>{% endfor %}</p>{% endif %}
{% if t.id in courtesy_ids %}<p class="reason">{{ L.courtesy_flag_note }}</p>{% endif %}
<div class="grid">
<div>
<h4>{{ L.where }}</h4>
{% if t.crosstab %}
<div class="scroll"><table class="small xt">
<thead><tr><th scope="col"></th>{% for c in t.crosstab.cols %}<th scope="col">{{ c }}</th>{% endfor %}<th scope="col" class="n">{{ L.total }}</th></tr></thead>
<tbody>
{% for r in t.crosstab.rows %}<tr><th scope="row">{{ r }}</th>{% set ns = namespace(s=0) %}{% for c in t.crosstab.cols %}{% set n = t.crosstab.cells.get((r, c), 0) %}{% set ns.s = ns.s + n %}<td class="n">{{ n or "" }}</td>{% endfor %}<td class="n">{{ ns.s }}</td></tr>
{% endfor %}
</tbody></table></div>
{% else %}
<p class="facts">{{ L.raised_by_types }}：{{ counts_inline(t.by_type, 20) }}<br>{{ L.raised_in_locations }}：{{ counts_inline(t.by_location, 20) }}</p>
{% endif %}
{% if t.by_role %}<p class="facts">{{ L.by_role }}：{% for k, n in t.by_role %}{{ lab("role_", k) }} {{ n }}{% if not loop.last %}、{% endif %}{% endfor %}</p>{% endif %}
</div>
<div>
<h4>{{ L.mapped_areas }}</h4>
{% if t.areas %}
<ul class="alist">
{% for a in t.areas %}<li><span class="aname">{% if a.primary %}★ {% endif %}{{ a.area_id }} {{ a.name if a.name != a.area_id else "" }}</span>
{%- if a.share is not none %}<span class="meter"><span style="width:{{ '%.1f'|format(100 * a.share) }}%"></span></span><span class="n">{{ a.share|pct(0) }}</span>{% endif %}
{%- if a.primary and t.key_area_confidence is not none %} <span class="conf">{{ L.confidence }} {{ '%.2f'|format(t.key_area_confidence) }}</span>{% endif %}</li>
{% endfor %}
</ul>
{% elif not t.mapped %}<p class="facts">{{ L.mapping_missing }}</p>
{% endif %}
{% if t.jt_dimensions %}<p class="facts">{{ L.jt_dimensions }}：{{ t.jt_dimensions|join("、") }}</p>{% endif %}
{% if t.focus %}<p class="facts">{{ L.focus }}：{{ t.focus }}</p>{% endif %}
{% if t.gap and t.gap_reason %}<p class="reason">{{ L.gap_reason }}：{{ t.gap_reason }}</p>{% endif %}
{% for line in t.curation_lines(L) %}<p class="facts curation">{{ line }}</p>{% endfor %}
</div>
</div>
<h4>{{ L.quotes }}（{{ t.quotes|length }}）</h4>
{% if t.quotes %}
<ul class="quotes">{% for q in t.quotes[:rc.quotes_shown] %}{{ quote_item(q) }}{% endfor %}</ul>
{% if t.quotes|length > rc.quotes_shown %}
<details class="more"><summary>{{ L.more_quotes.format(n=t.quotes|length - rc.quotes_shown) }}</summary>
<ul class="quotes">{% for q in t.quotes[rc.quotes_shown:] %}{{ quote_item(q) }}{% endfor %}</ul>
</details>
{% endif %}
{% else %}<p class="facts">{{ L.no_quotes }}</p>{% endif %}
{% if t.official_quotes %}
<details class="more official"><summary>{{ L.official_quotes.format(n=t.official_quotes|length) }}</summary>
<p class="facts">{{ L.official_quotes_note }}</p>
<ul class="quotes">{% for q in t.official_quotes %}{{ quote_item(q) }}{% endfor %}</ul>
</details>
{% endif %}
</article>
{% endfor %}
<p class="note" id="no-match" hidden>{{ L.no_match }}</p>
{% endif %}
</section>
"""


def options(run: RunData) -> dict[str, list[tuple[str, str]]]:
    """Filter choices: only values some theme has, so no choice empties the page."""
    types: list[str] = []
    locs: list[str] = []
    for t in run.themes:
        types += [k for k, n in t.by_type if n and k not in types]
        locs += [k for k, n in t.by_location if n and k not in locs]
    names = {a.id: a.name for a in run.areas}
    used = [a.id for a in run.areas if any(a.id in t.bears_on for t in run.themes)]
    return {"areas": [(a, f"{a} {names[a]}" if names.get(a, a) != a else a) for a in used],
            "types": [(k, k) for k in types], "locations": [(k, k) for k in locs]}


def view(run: RunData, cfg: Config, L: Labels) -> dict[str, Any]:
    return {"options": options(run), "has_none": any(not_net_zero(t) for t in run.themes),
            "courtesy_ids": {t.id for t in run.courtesy_themes}}


def not_net_zero(t: Theme) -> bool:
    """A mapped theme about no strategy area that is not a gap: feedback not about net-zero."""
    return t.mapped and not t.bears_on and not t.gap


def search_index(run: RunData) -> dict[str, Any]:
    """Every analysed unit for the page's quote search, column-wise (one list per field, so
    names are not repeated 10,000 times): text, theme (index into `anchors`, -1 = none),
    session (index into `sessions`), speaker and source."""
    units = run.units[analysed_mask(run.units)]
    anchors = [t.anchor for t in run.themes]
    pos = {t.id: i for i, t in enumerate(run.themes)}
    theme_of = {u: pos.get(tid, -1) for u, (tid, _) in _theme_of(run).items()}
    sessions = {s.id: i for i, s in enumerate(run.sessions)}
    labels = []
    for s in run.sessions:
        bits = [b for b in (s.date, s.type, s.location) if b]
        labels.append((s.title or s.id) + (f"（{'，'.join(bits)}）" if bits else ""))

    def col(name: str) -> list[Any]:
        return units[name].tolist() if name in units else [None] * len(units)

    src = []
    for f, a, b in zip(col("file"), col("line_start"), col("line_end"), strict=True):
        src.append("" if not f else f"{f}:{a}" + (f"–{b}" if b is not None and b != a else "")
                   if a is not None else str(f))
    return {"anchors": anchors, "sessions": labels,
            "units": {"t": [str(x) for x in col("text")],
                      "th": [theme_of.get(str(u), -1) for u in col("unit_id")],
                      "s": [sessions.get(str(x), -1) for x in col("session_id")],
                      "sp": [text_or_none(x) or "" for x in col("speaker")], "src": src}}


def data(run: RunData, L: Labels) -> dict[str, Any]:
    """What the filter script needs per theme card, every analysed unit for the quote
    search, and its words."""
    return {
        **search_index(run),
        "themes": {t.anchor: {"areas": t.bears_on, "gap": t.gap, "none": not_net_zero(t),
                              "types": [k for k, n in t.by_type if n],
                              "locations": [k for k, n in t.by_location if n]}
                   for t in run.themes},
        "labels": {k: L[k] for k in ("showing_themes", "matching_quotes", "expand_all",
                                     "collapse_all", "search_results", "search_none",
                                     "no_theme", "theme_no", "unknown")},
    }


def _card(t: Theme, L: Labels, courtesy: bool = False) -> list[str]:
    out = [f"### {L['theme_no']} {t.number}：{md(t.label)}", ""]
    line = f"- **{L['size']}**：{t.size}；**{L['share']}**：{pct(t.share)}"
    if t.gap:
        line += f"；**{L['gap_flag']}**"
    out.append(line)
    if courtesy:  # themes.courtesy_check: mostly meeting talk
        out.append(f"- **{L['courtesy_flag']}**：{L['courtesy_flag_note']}")
    if (agree := t.agreement_text(L)) is not None:
        out.append(f"- {agree}")
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
        out += [f"{L['raised_by_types']}：{counts_text(t.by_type, L)}",
                "", f"{L['raised_in_locations']}：{counts_text(t.by_location, L)}", ""]
    out += [f"**{L['quotes']}**（{len(t.quotes)}）", ""]
    for q in t.quotes:
        out += quote(q, L)
    if t.official_quotes:
        out += [f"**{L['official_quotes'].format(n=len(t.official_quotes))}**", "",
                L["official_quotes_note"], ""]
        for q in t.official_quotes:
            out += quote(q, L)
    return out


def markdown(run: RunData, cfg: Config, L: Labels, n: int) -> list[str]:
    out = [f"## {n}. {L['themes']}", ""]
    if not run.themes:
        out += [f"> {L['no_themes']}", ""]
    courtesy = {t.id for t in run.courtesy_themes}
    for t in run.themes:
        out += _card(t, L, t.id in courtesy)
    return out


def sheets(run: RunData, cfg: Config, L: Labels) -> list[Sheet]:
    names = {a.id: a.name for a in run.areas}

    def counts(items: list[tuple[str, int]]) -> str:
        return "、".join(f"{k or L['unknown']} {n}" for k, n in items)

    themes = Sheet(L["sheet_themes"], [
        L["x_theme_id"], L["x_label"], L["x_keywords"], L["x_size"], L["x_share"],
        L["x_key_area"], L["x_key_area_name"], L["x_confidence"], L["x_areas"], L["x_jt"],
        L["x_focus"], L["x_gap"], L["x_gap_reason"], L["x_types"], L["x_locations"],
        L["curated"], L["reviewed"], L["label_computed"], L["curation_source"]],
        ([t.number, t.label, "、".join(w for w, _ in t.keywords), t.size, t.share,
          t.key_area or (L["none_share"] if t.mapped else None),
          names.get(t.key_area or "", t.key_area), t.key_area_confidence,
          "、".join(f"{a.area_id} {a.share:.2f}" if a.share is not None else a.area_id
                   for a in t.areas),
          "、".join(t.jt_dimensions), t.focus, L["yes"] if t.gap else L["no"], t.gap_reason,
          counts(t.by_type), counts(t.by_location),
          L["yes"] if (t.curated or t.label_curated) else L["no"],
          L["yes"] if t.reviewed else L["no"], t.label_computed,
          "\n".join(t.curation_lines(L)) or None] for t in run.themes),
        widths={2: 30, 3: 40, 9: 30, 13: 40, 14: 30, 15: 30, 18: 30, 19: 50},
        formats={5: "0.0%", 8: "0.00"})
    quotes = Sheet(L["sheet_quotes"], [
        L["x_theme_id"], L["x_label"], L["x_quote_no"], L["x_unit_id"], L["x_text"],
        L["x_session_id"], L["x_session_title"], L["x_date"], L["x_session_type"],
        L["x_location"], L["x_speaker"], L["x_role"], L["x_source"]],
        ([t.number, t.label, n, q.unit_id, q.text, q.session_id, q.session_title,
          q.session_date, q.session_type, q.session_location, q.speaker,
          L.get(f"role_{q.role}", q.role), q.source]
         for t in run.themes for n, q in enumerate(t.quotes, 1)),
        widths={2: 24, 4: 14, 5: 70, 7: 24, 13: 28}, wrap={5})
    return [themes, quotes, _units_sheet(run, cfg, L, names)]


# --- the units sheet: every unit with its theme and the mapping's decision ------------------

_DECISION_KEYS = ("x_unit_key_area", "x_unit_focus", "x_unit_focus_score",
                  "x_unit_focus_keywords", "x_unit_jt", "x_mapping_method")


def _theme_of(run: RunData) -> dict[str, tuple[str, float | None]]:
    out: dict[str, tuple[str, float | None]] = {}
    if run.unit_themes is not None and len(run.unit_themes):
        ut = best_theme_per_unit(run.unit_themes)
        probs = ut["probability"] if "probability" in ut else [None] * len(ut)
        for u, t, p in zip(ut["unit_id"], ut["theme_id"], probs, strict=True):
            out.setdefault(str(u), (str(t), p))
    return out


def _area_scores(run: RunData) -> tuple[dict[str, dict[str, float]], list[str]]:
    scores: dict[str, dict[str, float]] = {}
    ua = run.unit_areas
    if ua is None or not {"unit_id", "area_id", "score"} <= set(ua.columns):
        return scores, []
    for u, a, s in zip(ua["unit_id"], ua["area_id"], ua["score"], strict=True):
        scores.setdefault(str(u), {})[str(a)] = s
    present = {str(a) for a in ua["area_id"]}
    cols = [a.id for a in run.areas if a.id in present]
    return scores, cols + sorted(present - set(cols))


def _decisions(run: RunData) -> dict[str, Any]:
    """The mapping's own decision per unit (key area after the NONE threshold, focus with its
    probability and keywords, JT dimensions): what the focus section counts."""
    ua = run.unit_areas
    if ua is None or "key_area" not in ua.columns:
        return {}
    return {str(r.unit_id): r for r in ua.drop_duplicates("unit_id").itertuples(index=False)}


def _decision_cells(r: Any) -> list[Any]:
    if r is None:
        return [None] * len(_DECISION_KEYS)

    def words(v: Any) -> str | None:
        return "、".join(str(w) for w in v) if v is not None and len(v) else None

    focus = getattr(r, "focus", None)
    has_focus = isinstance(focus, str) and bool(focus)
    return [r.key_area, focus if has_focus else None,
            getattr(r, "focus_score", None) if has_focus else None,
            words(getattr(r, "focus_keywords", None)), words(getattr(r, "jt_dimensions", None)),
            getattr(r, "method", None)]


def _units_sheet(run: RunData, cfg: Config, L: Labels, names: dict[str, str]) -> Sheet:
    units: pd.DataFrame = run.units
    if cfg.report.xlsx_units == "analysed":
        units = units[analysed_mask(units)]
    theme_of = _theme_of(run)
    labels = {t.id: t.label for t in run.themes}
    numbers = {t.id: t.number for t in run.themes}
    scores, area_cols = _area_scores(run)
    decided = _decisions(run)
    headers = [L["x_unit_id"], L["x_session_id"], L["x_session_title"], L["x_session_type"],
               L["x_location"], L["x_speaker"], L["x_role"], L["x_text"], L["x_analysed"],
               L["x_excluded"], L["x_theme_id"], L["x_label"], L["x_probability"],
               L["x_top_area"], L["x_source"]]
    headers += [L[k] for k in _DECISION_KEYS] if decided else []
    # The mapping's NONE column is a code; its header is worded like the themes sheet's.
    headers += [L["none_share"] if a == "NONE" else f"{a} {names[a]}" if names.get(a, a) != a
                else a for a in area_cols]

    def rows() -> Iterable[list[Any]]:
        for r in units.itertuples(index=False):
            u = str(r.unit_id)
            tid, prob = theme_of.get(u, (None, None))
            sc = scores.get(u, {})
            top = max(sc, key=lambda k: sc[k]) if sc else None
            ls, le = getattr(r, "line_start", None), getattr(r, "line_end", None)
            src = f"{r.file}:{ls}" + (f"–{le}" if le is not None and le != ls else "") \
                if getattr(r, "file", None) else None
            reason = text_or_none(getattr(r, "excluded_reason", None))
            analysed = bool(getattr(r, "analysed", True))
            yield [u, getattr(r, "session_id", None),
                   text_or_none(getattr(r, "session_title", None)),
                   text_or_none(getattr(r, "session_type", None)),
                   text_or_none(getattr(r, "session_location", None)), getattr(r, "speaker", None),
                   L.get(f"role_{getattr(r, 'role', '')}", getattr(r, "role", None)),
                   r.text, L["yes"] if analysed else L["no"],
                   L.get(f"reason_{reason}", reason) if reason else None,
                   numbers.get(tid or ""), labels.get(tid or "", L["outliers"] if tid == "-1" else None),
                   prob, top, src] + (_decision_cells(decided.get(u)) if decided else []) + \
                [sc.get(a) for a in area_cols]

    return Sheet(L["sheet_units"], headers, rows(), widths={1: 14, 3: 22, 8: 70, 12: 24, 15: 26},
                 wrap={8})


SECTION = Section("themes", HTML, markdown, view=view, sheets=sheets, data=data)
