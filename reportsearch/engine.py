"""The search engine: query normalization, dense + keyword retrieval, fusion, collapsing, highlights and answers."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .answer import choose_answer_for, highlight_spans, sentence_spans
from .embedders import Embedder, load_embedder, requested_model
from .errors import IndexMismatchError, QueryError
from .figures import prefer_measure
from .fusion import fuse, ranking
from .glossary import expand, load_glossary
from .records import Answer, Hit, SearchResponse
from .store import IndexStore, load_index
from .textnorm import fold
from .timeref import prefer_time, question_time
from .tokenize import content_words, query_terms, strip_question_words, tokenize

MODES = ("hybrid", "semantic", "keyword")
MAX_QUERY_CHARS = 1000
MAX_TOP_K = 50
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class EngineConfig:
    """Ranking settings; the defaults were tuned on eval/questions.jsonl (see models.md)."""

    fusion: str = "weighted"
    alpha: float = 0.5  # weight of the dense side in hybrid fusion
    rrf_k: int = 60
    candidates: int = 100  # per side, before fusion
    glossary: bool = True
    low_conf_coverage: float = 0.30  # IDF-weighted share of query words found in the top hits …
    low_conf_dense_strong: float = 0.90  # … flags low confidence unless the dense match is this strong
    low_conf_dense: float = 0.76  # queries without Chinese words (English) are judged by the dense score alone
    time_boost: float = 0.3  # passages in the half of a report the question asks about (去年/今年) gain this
    time_penalty: float = 0.0  # … and those in the other half lose this (× the score spread; timeref.py)
    measure_boost: float = 0.25  # passages holding the question's measure verbatim gain this (figures.py)


def normalize_query(query: object) -> tuple[str, list[str]]:
    """Validate a query; return (display query, notices). Raises QueryError for empty input."""
    if not isinstance(query, str):
        raise QueryError("the query must be text")
    q = _WS.sub(" ", query.replace("\x00", " ")).strip()
    if not q:
        raise QueryError("the query is empty: type a question or a keyword")
    notices = []
    if len(q) > MAX_QUERY_CHARS:
        q = q[:MAX_QUERY_CHARS]
        notices.append(f"the query was longer than {MAX_QUERY_CHARS} characters and was truncated")
    return q, notices


def check_mode(mode: object) -> str:
    if mode not in MODES:
        raise QueryError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    return str(mode)


def check_top_k(top_k: object) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or not 1 <= int(top_k) <= MAX_TOP_K:
        raise QueryError(f"top_k must be a whole number from 1 to {MAX_TOP_K}, got {top_k!r}")
    return int(top_k)


class SearchEngine:
    """Loads the model and index once; `search` is cheap and thread-safe for reads."""

    def __init__(self, store: IndexStore, embedder: Embedder | None, config: EngineConfig | None = None,
                 glossary: dict | None = None):
        self.store = store
        self.embedder = embedder
        self.config = config or EngineConfig()
        self.glossary = load_glossary() if glossary is None else glossary
        self.passages = store.passages
        self.folded = [fold(p.text) for p in self.passages]
        self._joined = "\x1f".join(self.folded)
        self._sentences_of: list[list[int]] = [[] for _ in self.passages]
        for s, row in enumerate(store.sentence_rows[:, 0] if len(store.sentence_rows) else []):
            self._sentences_of[int(row)].append(s)
        self.neighbors = self._neighbors()
        self.row_of = {p.id: i for i, p in enumerate(self.passages)}

    @classmethod
    def load(cls, index_dir: str | Path, model: str | None = None, config: EngineConfig | None = None,
             embedder: Embedder | None = None) -> "SearchEngine":
        store = load_index(Path(index_dir))
        built_with = store.manifest.get("model")
        if model and requested_model(model) != built_with:
            raise IndexMismatchError(f"the index was built with {built_with!r}, not {model!r}; "
                                     f"run `python ingest.py --model {model}` to rebuild it")
        embedder = embedder or load_embedder(built_with)
        if embedder.name != built_with or embedder.dim != store.manifest.get("dim"):
            raise IndexMismatchError(f"model {embedder.name!r} ({embedder.dim} dims) does not match the index "
                                     f"({built_with!r}, {store.manifest.get('dim')} dims); run `python ingest.py`")
        return cls(store, embedder, config)

    # ------------------------------------------------------------ helpers
    def _neighbors(self) -> list[tuple[str, ...]]:
        """The passages just before and after, within the tightest section they share (clause, then topic…)."""
        ps = self.passages
        out = []
        for i, p in enumerate(ps):
            ids: list[str] = []
            for depth in (3, 2, 1):
                key = (p.doc, p.section[:depth])
                ids = [ps[j].id for j in (i - 1, i + 1)
                       if 0 <= j < len(ps) and (ps[j].doc, ps[j].section[:depth]) == key]
                if ids or len(p.section) < depth:
                    break
            out.append(tuple(ids))
        return out

    def sections(self) -> list[str]:
        """The L2 headings (or L1 where there is no L2), in report order: the choices for a section filter."""
        seen = dict.fromkeys(p.section[1] if len(p.section) > 1 and p.section[1].startswith("（") else p.section[0]
                             for p in self.passages if p.section)  # L2 titles are canonicalised to `（…）`
        return list(seen)

    def passage(self, pid: str):
        i = self.row_of.get(pid)
        return None if i is None else self.passages[i]

    def _keyword_query(self, q: str) -> tuple[str, list[str]]:
        fq = strip_question_words(fold(q))
        extra = expand(fq, self.glossary) if self.config.glossary else []
        return fq, extra

    def _keyword_scores(self, fq: str, extra: list[str]) -> np.ndarray:
        tokens = tokenize(" ".join([fq, *extra]), self.store.keyword.scheme, folded=True)
        return self.store.keyword.scores(tokens)

    def _dense_scores(self, qvec: np.ndarray) -> dict[int, float]:
        ids, scores = self.store.dense.search(qvec, max(self.config.candidates, min(self.store.count, 2000)))
        return {int(i): float(s) for i, s in zip(ids, scores)}

    # ------------------------------------------------------------ search
    def search(self, query: str, mode: str = "hybrid", top_k: int = 5, section: str | None = None) -> SearchResponse:
        q, notices = normalize_query(query)
        mode, top_k = check_mode(mode), check_top_k(top_k)
        cfg = self.config
        fq, extra = self._keyword_query(q)
        kw = self._keyword_scores(fq, extra) if mode != "semantic" else None
        qvec = self.embedder.encode_queries([q])[0] if mode != "keyword" else None
        dense = self._dense_scores(qvec) if qvec is not None else {}
        keyword: dict[int, float] = {}
        if kw is not None:
            top = np.argsort(-kw, kind="stable")[:cfg.candidates]
            keyword = {int(i): float(kw[i]) for i in top if kw[i] > 0}
        if mode == "semantic":
            ranked = [(i, dense[i]) for i in ranking(dense)]
        elif mode == "keyword":
            ranked = [(i, keyword[i]) for i in ranking(keyword)]
        else:
            ranked = fuse(dense, keyword, cfg.fusion, cfg.alpha, cfg.rrf_k)
        ranked = prefer_time(ranked, self.passages, question_time(q), cfg.time_boost, cfg.time_penalty)
        ranked = prefer_measure(ranked, self.folded, q, cfg.measure_boost)
        if section:
            ranked = [(i, s) for i, s in ranked if section in self.passages[i].section]
        terms = query_terms(fq, folded=True) + [t for t in extra if t]
        hits = self._collect(ranked, top_k, terms, qvec, (q, extra))
        low = self._low_confidence(fq, hits, dense)
        return SearchResponse(query=q, mode=mode, results=tuple(hits), low_confidence=low, notices=tuple(notices))

    def _collect(self, ranked, top_k, terms, qvec, ask=None) -> list[Hit]:
        hits: list[Hit] = []
        clauses: set[tuple] = set()  # (doc, section) of clauses already shown
        for i, score in ranked:
            p = self.passages[i]
            if len(p.section) >= 3:
                if (p.doc, p.section) in clauses:
                    continue  # another piece of a clause that already ranked higher
                clauses.add((p.doc, p.section))
            hl = highlight_spans(self.folded[i], terms)
            hits.append(Hit(passage=p, score=score, rank=len(hits) + 1, highlights=tuple(hl),
                            answer=self._answer(i, hl, qvec, ask), neighbors=self.neighbors[i]))
            if len(hits) == top_k:
                break
        return hits

    def _answer(self, i: int, hl, qvec, ask=None) -> Answer:
        p = self.passages[i]
        sids = self._sentences_of[i]
        rows = self.store.sentence_rows
        spans = [(int(rows[s, 1]), int(rows[s, 2])) for s in sids] or sentence_spans(p.text)
        sims = None
        if qvec is not None and sids and len(sids) == len(spans):
            sims = self.store.sentence_vectors[sids] @ qvec
        titles = 0  # leading sentences that are headings of this passage (`建设健康沁水。提升医疗服务。…`)
        while titles < len(spans) and p.text[spans[titles][0]:spans[titles][1]].rstrip("。") in p.section:
            titles += 1
        k, fig = choose_answer_for(p.text, spans, hl, sims, titles, *(ask or (None, ())))
        a, b = spans[k] if k >= 0 else (0, len(p.text))
        return Answer(p.text[a:b], a, b, figure=Answer(*fig) if fig else None)

    def _idf(self, term: str) -> float:
        df = self._joined.count(term)  # occurrences approximate document frequency; C speed at any size
        return math.log((len(self.passages) + 1) / (df + 0.5))

    def coverage(self, fq: str, hits: list[Hit]) -> float | None:
        """IDF-weighted share of the query's content words found in the best of the top 3 hits.

        `fq` is the folded query without question words. A word also counts as found when one of its
        glossary expansions is. None for queries with no
        Chinese content words or numbers (English, say), where only the dense score can judge.
        """
        words = list(dict.fromkeys(content_words(fq)))
        if not words or not hits or (re.search(r"[a-z]{2}", fq) and not re.search(r"[\u3400-\u9fff]", fq)):
            return None
        weights = {w: self._idf(w) for w in words}
        total = sum(weights.values())
        best = 0.0
        for h in hits[:3]:
            text = self.folded[self.row_of[h.passage.id]]
            got = sum(wt for w, wt in weights.items()
                      if w in text or any(x in text for x in expand(w, self.glossary)))
            best = max(best, got)
        return best / total if total > 0 else None

    def _low_confidence(self, fq: str, hits: list[Hit], dense: dict[int, float]) -> bool:
        if not hits:
            return True
        cfg = self.config
        coverage = self.coverage(fq, hits)
        top_dense = max(dense.values()) if dense else None
        if coverage is None:
            return top_dense is not None and top_dense < cfg.low_conf_dense
        if top_dense is None:
            return coverage < cfg.low_conf_coverage
        return coverage < cfg.low_conf_coverage and top_dense < cfg.low_conf_dense_strong

    def with_config(self, **changes) -> "SearchEngine":
        """A copy sharing the loaded index and model, with other ranking settings (for tuning and eval)."""
        clone = object.__new__(SearchEngine)
        clone.__dict__.update(self.__dict__)
        clone.config = replace(self.config, **changes)
        return clone
