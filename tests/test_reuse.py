"""Which stages a re-run reuses (pipeline/reuse.py), on stage records alone: no fitting."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import reuse
from pipeline.config import Config, load_config
from pipeline.progress import Progress
from pipeline.rundir import RunRecord
from pipeline.runner import COMMANDS, STAGES, Context

FILES = {"ingest": ["units.parquet"], "campaigns": ["campaigns.json"], "embed": [],
         "themes": ["themes_fit.json"],
         "mapping": ["unit_areas.parquet", "themes.json"],
         "participation": ["participation.json"], "stance": ["unit_stance.parquet"],
         "proposals": ["proposals.json"]}


def _ctx(tmp: Path, cfg: Config, run_id: str) -> Context:
    rnd = tmp / "round"
    if not rnd.exists():
        rnd.mkdir()
        (rnd / "a.md").write_text("主持人：開始。\n", encoding="utf-8")
    out = tmp / "reports" / "r" / f".tmp-{run_id}"
    out.mkdir(parents=True)
    record = RunRecord(command="run", round_name="r", round_dir=str(rnd), run_id=run_id,
                       config=cfg.to_dict(), config_hash=cfg.hash())
    return Context(cfg, rnd, out, record, Progress(quiet=True))


def _finish(ctx: Context, keys: dict[str, str], name: str) -> Path:
    """A finished run folder whose stages carry `keys` and their files."""
    final = ctx.out.parent / name
    final.mkdir()
    stages = {}
    for stage, key in keys.items():
        for f in FILES[stage]:
            (final / f).write_text(stage, encoding="utf-8")
        stages[stage] = {"seconds": 1.0, "key": key, "files": FILES[stage]}
    (final / "run.json").write_text(json.dumps({"stages": stages}), encoding="utf-8")
    return final


def test_unchanged_inputs_and_a_report_change_reuse_every_stage_before_compare(tmp_path):
    first = _ctx(tmp_path, Config(), "1")
    keys, reused = reuse.plan(first, COMMANDS["run"], STAGES)
    assert set(keys) == {"ingest", "campaigns", "embed", "themes", "mapping", "participation",
                         "stance", "proposals"} and reused == {}
    earlier = _finish(first, keys, "20260101T000000-a")
    later = _ctx(tmp_path, load_config(overrides=["report.quotes_shown=4"]), "2")
    keys2, reused2 = reuse.plan(later, COMMANDS["run"], STAGES)
    assert keys2 == keys
    # Every stage before compare, embed included: no stage that still runs needs the vectors.
    restored = ["ingest", "campaigns", "embed", "themes", "mapping", "participation", "stance",
                "proposals"]
    assert {s: run for s, (run, _) in reused2.items()} == {s: earlier for s in restored}
    # A stance change runs stance and proposals again, and so embed (they need the vectors).
    stance = _ctx(tmp_path, load_config(overrides=["stance.proposal_min_probability=0.6"]), "3")
    _, reused3 = reuse.plan(stance, COMMANDS["run"], STAGES)
    assert set(reused3) == {"ingest", "campaigns", "themes", "mapping", "participation"}


def test_a_themes_change_reuses_the_units_and_runs_embed_for_the_themes(tmp_path):
    first = _ctx(tmp_path, Config(), "1")
    keys, _ = reuse.plan(first, COMMANDS["run"], STAGES)
    _finish(first, keys, "20260101T000000-a")
    later = _ctx(tmp_path, load_config(overrides=["themes.min_size=12"]), "2")
    keys2, reused = reuse.plan(later, COMMANDS["run"], STAGES)
    assert keys2["ingest"] == keys["ingest"] and keys2["embed"] == keys["embed"]
    assert keys2["themes"] != keys["themes"] and keys2["mapping"] != keys["mapping"]
    # Embeddings are not in the run folder: the themes stage needs them, so embed runs.
    assert set(reused) == {"ingest", "campaigns"}


def test_a_mapping_change_keeps_the_themes(tmp_path):
    first = _ctx(tmp_path, Config(), "1")
    keys, _ = reuse.plan(first, COMMANDS["run"], STAGES)
    _finish(first, keys, "20260101T000000-a")
    later = _ctx(tmp_path, load_config(overrides=["mapping.theme_min_share=0.5"]), "2")
    _, reused = reuse.plan(later, COMMANDS["run"], STAGES)
    # Mapping runs and needs the vectors: embed runs too (from its cache).
    assert set(reused) == {"ingest", "campaigns", "themes"}


def test_changed_input_file_or_reuse_off_reuses_nothing(tmp_path):
    first = _ctx(tmp_path, Config(), "1")
    keys, _ = reuse.plan(first, COMMANDS["run"], STAGES)
    _finish(first, keys, "20260101T000000-a")
    off = _ctx(tmp_path, load_config(overrides=["run.reuse=false"]), "2")
    assert reuse.plan(off, COMMANDS["run"], STAGES)[1] == {}
    (tmp_path / "round" / "a.md").write_text("主持人：開始了。\n", encoding="utf-8")
    edited = _ctx(tmp_path, Config(), "3")
    keys3, reused = reuse.plan(edited, COMMANDS["run"], STAGES)
    assert reused == {} and keys3["ingest"] != keys["ingest"]


def test_a_run_missing_a_stage_file_is_not_reused(tmp_path):
    first = _ctx(tmp_path, Config(), "1")
    keys, _ = reuse.plan(first, COMMANDS["run"], STAGES)
    earlier = _finish(first, keys, "20260101T000000-a")
    (earlier / "themes_fit.json").unlink()
    later = _ctx(tmp_path, Config(), "2")
    _, reused = reuse.plan(later, COMMANDS["run"], STAGES)
    assert set(reused) == {"ingest", "campaigns"}


def test_themes_json_meta_hash_ignores_report_settings():
    a = reuse.config_sections_hash(Config(), "mapping")
    assert a == reuse.config_sections_hash(load_config(overrides=["report.language=en"]),
                                           "mapping")
    assert a != reuse.config_sections_hash(load_config(overrides=["mapping.theme_min_share=0.5"]),
                                           "mapping")
    assert reuse.config_sections_hash(Config(), "themes") == reuse.config_sections_hash(
        load_config(overrides=["mapping.theme_min_share=0.5"]), "themes")


def test_computing_stages_run_on_one_blas_thread_even_for_libraries_loaded_later():
    # In a fresh process: scipy's OpenBLAS and scikit-learn's OpenMP are not loaded yet, as
    # in a re-run whose ingest was reused. Without loading them first, a limit would miss
    # them, and a stage's last bits (so the reduced-space cache key) would depend on which
    # stages ran before it.
    import subprocess
    import sys

    code = ("from pipeline.runner import STAGES, _threads\n"
            "from threadpoolctl import threadpool_info\n"
            "assert STAGES['themes'].blas_threads == 1 and STAGES['embed'].blas_threads is None\n"
            "with _threads(1):\n"
            "    from sklearn.decomposition import TruncatedSVD\n"
            "    print(sorted({(i['internal_api'], i['num_threads']) for i in threadpool_info()}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], check=True).stdout
    assert out.strip() == "[('openblas', 1), ('openmp', 1)]"
