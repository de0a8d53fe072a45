"""Method and provenance: steps, models and package versions, exclusions, redactions,
speaker roles, stage timings, inputs with their hashes, the run's configuration."""

from __future__ import annotations

from typing import Any

from pipeline.config import Config
from pipeline.report.display import config_yaml, hidden_label
from pipeline.report.mdtext import code, lab, md, table
from pipeline.report.model import RunData
from pipeline.report.sections.base import Labels, Section

HTML = r"""<section id="method">
<h2>{{ n }}. {{ L.method }}</h2>
<p class="intro">{{ L.method_intro }}</p>
<p><strong>{{ L.pipeline_steps }}：</strong>{{ L.steps_text }}</p>
<div class="two">
<div>
<h3>{{ L.models }}</h3>
<table class="small"><tbody>
{% if embedding %}<tr><th scope="row">{{ L.embedding_model }}</th><td><code>{{ embedding }}</code></td></tr>{% endif %}
{% for name, v in run.packages.items() %}<tr><th scope="row">{{ name }}</th><td><code>{{ v }}</code></td></tr>{% endfor %}
</tbody></table>
</div>
<div>
<h3>{{ L.exclusions }}</h3>
<table class="small"><caption>{{ L.excluded_units }}</caption><tbody>
{% for k, n in run.excluded %}<tr><th scope="row">{{ lab("reason_", k) }}</th><td class="n">{{ n }}</td></tr>{% endfor %}
{% if run.n_outliers is not none %}<tr><th scope="row">{{ L.outliers }}</th><td class="n">{{ run.n_outliers }}</td></tr>{% endif %}
</tbody></table>
{% if run.redactions %}
<table class="small"><caption>{{ L.redactions }}</caption><tbody>
{% for k, n in run.redactions %}<tr><th scope="row">{{ lab("redact_", k) }}</th><td class="n">{{ n }}</td></tr>{% endfor %}
</tbody></table>
{% endif %}
{% if run.procedural_kinds %}
<table class="small"><caption>{{ L.procedural_kinds }}</caption><tbody>
{% for k, n in run.procedural_kinds %}<tr><th scope="row">{{ lab("pkind_", k) }}</th><td class="n">{{ n }}</td></tr>{% endfor %}
</tbody></table>
{% endif %}
{% if run.stages %}
<table class="small"><caption>{{ L.stages }}</caption><tbody>
{% for name, st in run.stages.items() %}<tr><th scope="row">{{ L.get("stage_" ~ name, name) }}</th><td class="n">{{ st.get("seconds", "–") }} {{ L.seconds }}</td></tr>{% endfor %}
</tbody></table>
{% endif %}
</div>
</div>
{% if run.courtesy is not none %}
<h3>{{ L.courtesy_check }}</h3>
<p>{{ run.courtesy_sentence(L) }}</p>
<p class="facts">{{ L.courtesy_note.format(top=cfg_themes.courtesy.top_keywords, hits=cfg_themes.courtesy.min_hits) }}</p>
{% endif %}
{% if run.speakers %}
<h3>{{ L.speaker_roles }}</h3>
<p class="facts">{{ L.speaker_roles_intro }}</p>
<table class="small"><thead><tr><th scope="col">{{ L.role }}</th><th scope="col" class="n">{{ L.speakers_n }}</th><th scope="col" class="n">{{ L.units_n }}</th></tr></thead><tbody>
{% for r, n, u in run.speaker_roles %}<tr><th scope="row">{{ lab("role_", r) }}</th><td class="n">{{ n }}</td><td class="n">{{ u }}</td></tr>{% endfor %}
</tbody></table>
{% if run.inferred_speakers %}
<details class="block"><summary>{{ L.inferred_speakers }}（{{ run.inferred_speakers|length }}）</summary>
<div class="scroll"><table class="small"><thead><tr><th scope="col">{{ L.speaker }}</th><th scope="col">{{ L.session }}</th><th scope="col">{{ L.role }}</th><th scope="col">{{ L.why }}</th></tr></thead><tbody>
{% for s in run.inferred_speakers %}<tr><td>{{ s.speaker }}</td><td>{{ s.session_id }}</td><td>{{ lab("role_", s.role) }}{% if s.body %}（{{ s.body }}）{% endif %}</td><td>{{ run.why(s, L) }}</td></tr>{% endfor %}
</tbody></table></div>
</details>
{% endif %}
{% endif %}
<h3>{{ L.inputs }}</h3>
<div class="scroll"><table class="small">
<thead><tr><th scope="col">{{ L.file }}</th><th scope="col">{{ L.sessions }}</th><th scope="col" class="n">{{ L.bytes }}</th><th scope="col">{{ L.encoding }}</th><th scope="col">{{ L.sha256 }}</th></tr></thead>
<tbody>
{% for i in run.inputs %}<tr><td><code>{{ i.get("file", "") }}</code></td><td>{{ i.get("session_id", "") }}</td><td class="n">{{ i.get("bytes", "")|string }}</td><td>{{ i.get("encoding", "") }}</td><td><code class="hash">{{ i.get("sha256", "") }}</code></td></tr>{% endfor %}
</tbody></table></div>
{% if run.skipped %}
<h3>{{ L.skipped }}</h3>
<table class="small"><thead><tr><th scope="col">{{ L.file }}</th><th scope="col">{{ L.reason }}</th></tr></thead><tbody>
{% for s in run.skipped %}<tr><td><code>{{ s.get("file", "") }}</code></td><td><code>{{ s.get("reason", "") }}</code></td></tr>{% endfor %}
</tbody></table>
{% endif %}
<details class="block">
<summary>{{ L.config }}（{{ L.config_hash }} <code>{{ run.config_hash }}</code>）</summary>
{% if run.rerendered %}<p class="note">{{ L.rerendered }}</p>{% endif %}
<pre class="config">{{ config_text }}</pre>
</details>
</section>
"""


def embedding(run: RunData) -> str:
    embed = run.config.get("embed") or {}
    return " / ".join(str(embed[k]) for k in ("backend", "model") if embed.get(k))


def view(run: RunData, cfg: Config, L: Labels) -> dict[str, Any]:
    return {"embedding": embedding(run), "cfg_themes": cfg.themes,
            "config_text": config_yaml(run.config, hidden_label(cfg))}


def _tables(run: RunData, cfg: Config, L: Labels) -> list[str]:
    out = [f"### {L['exclusions']}", ""]
    rows = [[lab(L, "reason_", k), str(n)] for k, n in run.excluded]
    if run.n_outliers is not None:
        rows.append([L["outliers"], str(run.n_outliers)])
    out += table([L["excluded_units"], L["count"]], rows)
    if run.redactions:
        out += table([L["redactions"], L["count"]],
                     [[lab(L, "redact_", k), str(n)] for k, n in run.redactions])
    if run.procedural_kinds:
        out += table([L["procedural_kinds"], L["count"]],
                     [[lab(L, "pkind_", k), str(n)] for k, n in run.procedural_kinds])
    if run.courtesy is not None:
        cc = cfg.themes.courtesy
        out += [f"### {L['courtesy_check']}", "", run.courtesy_sentence(L), "",
                L["courtesy_note"].format(top=cc.top_keywords, hits=cc.min_hits), ""]
    if run.speakers:
        out += [f"### {L['speaker_roles']}", "", L["speaker_roles_intro"], ""]
        out += table([L["role"], L["speakers_n"], L["units_n"]],
                     [[lab(L, "role_", r), str(n), str(u)] for r, n, u in run.speaker_roles])
        if run.inferred_speakers:
            out += [f"**{L['inferred_speakers']}**", ""]
            out += table([L["speaker"], L["session"], L["role"], L["why"]],
                         [[md(s.get("speaker")), md(s.get("session_id")),
                           lab(L, "role_", s.get("role"))
                           + (f"（{md(s['body'])}）" if s.get("body") else ""),
                           md(run.why(s, L))] for s in run.inferred_speakers])
    if run.stages:
        out += [f"### {L['stages']}", ""]
        out += table([L["stage"], L["seconds"]],
                     [[md(L.get(f"stage_{k}", k)), md(v.get("seconds", ""))]
                      for k, v in run.stages.items()])
    return out


def markdown(run: RunData, cfg: Config, L: Labels, n: int) -> list[str]:
    out = [f"## {n}. {L['method']}", "", L["method_intro"], "",
           f"**{L['pipeline_steps']}**：{L['steps_text']}", "", f"### {L['models']}", ""]
    emb = embedding(run)
    rows = [[L["embedding_model"], code(emb)]] if run.config.get("embed") else []
    rows += [[md(k), code(v)] for k, v in run.packages.items()]
    out += table([L["package"], L["version"]], rows)
    out += [f"### {L['inputs']}", ""]
    out += table([L["file"], L["sessions"], L["bytes"], L["encoding"], L["sha256"]],
                 [[code(i.get("file")), md(i.get("session_id")), md(i.get("bytes")),
                   md(i.get("encoding")), code(i.get("sha256"))] for i in run.inputs])
    if run.skipped:
        out += [f"### {L['skipped']}", ""]
        out += table([L["file"], L["reason"]],
                     # The reader's own message, verbatim (as the command line printed it).
                     [[code(s.get("file")), code(s.get("reason"))] for s in run.skipped])
    out += _tables(run, cfg, L)
    fence = "~~~~~~~~"  # longer than any run of tildes YAML could hold, so the block closes
    out += [f"### {L['config']}", ""]
    if run.rerendered:
        out += [L["rerendered"], ""]
    out += [f"{fence}yaml",
            config_yaml(run.config, hidden_label(cfg)).replace("~~~~~~~~", "~ ~ ~ ~").rstrip(),
            fence, "", "---", "", f"{L['generated_by']} {L['run_id']} {code(run.run_id)}", ""]
    return out


SECTION = Section("method", HTML, markdown, view=view)
