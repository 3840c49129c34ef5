"""The search engine: query normalization, dense + keyword retrieval, fusion, collapsing, highlights and answers."""

from __future__ import annotations

import logging
import math
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from .answer import choose_answer_for, highlight_spans, sentence_spans
from .embedders import VARIANT_ENV, Embedder, expected_backend, load_embedder, recorded_variant, requested_model
from .errors import EmptyQueryError, IndexMismatchError, ModelError, QueryError, UnknownFilterError
from .exact import exact_terms, missing, numbers
from .figures import Ask, prefer_measure
from .fusion import fuse, newer_first_on_ties, ranked_items
from .glossary import expand, load_glossary
from .keyword import top_k as top_scores
from .records import Answer, Comparison, Hit, ReportHit, SearchResponse
from .store import IndexStore, ingest_command, load_index, read_manifest
from .textnorm import fold
from .timeref import (TimeRef, answers_another_time, asks_plan, covered, covered_year, in_library,
                      is_relative_time_word, prefer_newest, prefer_time, question_time, question_years)
from .tokenize import (content_words, grouped_numbers, join_digit_groups, nothing_to_look_for, query_terms,
                       strip_question_words, tokenize)

log = logging.getLogger(__name__)
MODES = ("hybrid", "semantic", "keyword")
MAX_QUERY_CHARS = 1000
MAX_TOP_K = 50
_WS = re.compile(r"\s+")
_YEAR_WORD = re.compile(r"(?:19|20)\d\d")  # a year as content_words gives it (`2023年` -> 2023)
_PLACE_UNIT = re.compile(r"(?:自治县|自治州|自治区|特别行政区|地区|县|市|区|州|盟|旗|省)$")
_CJK_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def _asked_backend(model: str | None) -> dict | None:
    """The runtime the environment asks for (None when $REPORTSEARCH_DEFAULT_VARIANT names none we have)."""
    try:
        return expected_backend(model)
    except ModelError:
        return None


@dataclass(frozen=True)
class EngineConfig:
    """Ranking settings; the defaults are checked on the `dev` split only (`python bench/tune.py`), never `test`."""

    fusion: str = "weighted"
    alpha: float = 0.5  # weight of the dense side in hybrid fusion
    rrf_k: int = 60
    candidates: int = 100  # per side, before fusion
    # query vectors kept for repeated questions (LRU); 0 (or $REPORTSEARCH_QUERY_CACHE=0) turns the cache off
    query_cache: int = field(default_factory=lambda: int(os.environ.get("REPORTSEARCH_QUERY_CACHE", "1024")))
    glossary: bool = True
    low_conf_coverage: float = 0.30  # IDF-weighted share of query words found in the top hits …
    low_conf_dense_strong: float = 0.90  # … flags low confidence unless the dense match is this strong
    low_conf_dense: float = 0.76  # queries without Chinese words (English) are judged by the dense score alone
    time_boost: float = 0.3  # passages in the half of a report the question asks about (去年/今年) gain this
    time_penalty: float = 0.0  # … and those in the other half lose this (× the score spread; timeref.py)
    # in a library of several years, a passage known to be about another year than the question's (timeref.
    # in_library: 去年 = the newest report's review) loses this: the same paragraph in two years' reports scores
    # alike, and only the year tells the right one from a wrong figure
    time_penalty_library: float = 0.3
    # … and when a question names no time, passages of the newest report searched gain this, as for 今年: the
    # reader wants the latest, and the same paragraph with an older year's figures otherwise comes first on a
    # hair's difference (timeref.prefer_newest)
    newest_boost_library: float = 0.3
    measure_boost: float = 0.25  # passages holding the question's measure verbatim gain this (figures.py)
    low_conf_english_glossary: bool = True  # English queries: also flag when no glossary term of theirs is found


def _place(region: str | None) -> str | None:
    """A region as one government: `沁水县` and `沁水` (given with --region) are the same."""
    return _PLACE_UNIT.sub("", region) or region if region else None


def normalize_query(query: object) -> tuple[str, list[str]]:
    """Validate a query; return (display query, notices). Raises QueryError for empty input."""
    if not isinstance(query, str):
        raise QueryError("the query must be text")
    q = _WS.sub(" ", query.replace("\x00", " ")).strip()
    if not q:
        raise EmptyQueryError("the query is empty: type a question or a keyword")
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
        self._qcache = (OrderedDict(), threading.Lock())  # query text -> vector; see embed_query
        self._sentences_of: list[list[int]] = [[] for _ in self.passages]
        for s, row in enumerate(store.sentence_rows[:, 0] if len(store.sentence_rows) else []):
            self._sentences_of[int(row)].append(s)
        # each passage's rows of sentence vectors as a slice where they are contiguous (they are as ingest
        # writes them): a slice reads a view, a list of rows copies
        self._sentence_rows = [slice(r[0], r[-1] + 1) if r and r[-1] - r[0] + 1 == len(r) else r
                               for r in self._sentences_of]
        self.neighbors = self._neighbors()
        self._spans: list[tuple | None] = [None] * len(self.passages)  # see _sentences
        self.row_of = {p.id: i for i, p in enumerate(self.passages)}
        self.newest_year = max((p.year for p in self.passages if p.year), default=None)
        self._rows_by: dict[str, dict] = {"doc": {}, "year": {}, "section": {}}  # filter value -> passage rows
        self._section_docs: dict[str, set[str]] = {}  # heading -> the reports that have it
        for i, p in enumerate(self.passages):
            self._rows_by["doc"].setdefault(p.doc, []).append(i)
            self._rows_by["year"].setdefault(p.year, []).append(i)
            for title in dict.fromkeys(p.section):
                self._rows_by["section"].setdefault(title, []).append(i)
                self._section_docs.setdefault(title, set()).add(p.doc)
        self._rows_by = {kind: {k: np.asarray(v, dtype=np.int64) for k, v in by.items()}
                         for kind, by in self._rows_by.items()}
        self._doc_year = {p.doc: p.year for p in self.passages}
        self._doc_region = {r["doc"]: _place(r.get("region")) for r in store.manifest.get("reports", [])}
        self._copies, self._same_text = self._copies_in_other_reports()
        self._several_years = len(self._rows_by["year"]) > 1  # ties go to the newer report (search)

    @property
    def version(self) -> int:
        """The index version this engine serves (see store.py); the live swap compares it."""
        return self.store.version

    def reports(self) -> list[dict]:
        """One entry per report, newest year first: doc, doc_title, year, passages."""
        out = [{"doc": doc, "doc_title": self.passages[int(rows[0])].doc_title or doc,
                "year": self.passages[int(rows[0])].year, "passages": len(rows)}
               for doc, rows in self._rows_by["doc"].items()]
        return sorted(out, key=lambda r: (-(r["year"] or 0), r["doc"]))

    def allowed_rows(self, section: str | None = None, docs: Sequence[str] | None = None,
                     year: int | None = None) -> np.ndarray | None:
        """Passage rows that pass the filters, or None when no filter is given. Unknown reports or years, and
        reports none of which is of the year given, are a QueryError that lists the known ones; a section heading
        that does not exist matches nothing (no rows)."""
        by = self._rows_by
        sets = []
        if docs:
            unknown = [d for d in docs if d not in by["doc"]]
            if unknown:
                raise UnknownFilterError(f"unknown report {', '.join(map(repr, unknown))}; known: "
                                         f"{', '.join(r['doc'] for r in self.reports())}")
            sets.append(np.concatenate([by["doc"][d] for d in dict.fromkeys(docs)]))
        if year is not None:
            if year not in by["year"]:
                years = ", ".join(str(y) for y in sorted((y for y in by["year"] if y is not None), reverse=True))
                raise UnknownFilterError(f"no report for the year {year}; years in the index: {years or 'none'}")
            sets.append(by["year"][year])
            if docs and all(self._doc_year.get(d) != year for d in docs):  # together they keep no report
                named = ", ".join(f"{d!r} is of {self._doc_year.get(d) or 'no known year'}"
                                  for d in dict.fromkeys(docs))
                raise UnknownFilterError(f"none of the reports asked for is of the year {year}: {named}")
        if section:
            sets.append(by["section"].get(section, np.zeros(0, dtype=np.int64)))
        if not sets:
            return None
        rows = sets[0]
        for other in sets[1:]:
            rows = np.intersect1d(rows, other)
        return np.unique(rows)

    @classmethod
    def load(cls, index_dir: str | Path, model: str | None = None, config: EngineConfig | None = None,
             embedder: Embedder | None = None) -> "SearchEngine":
        manifest = read_manifest(Path(index_dir))
        built_with = manifest.get("model")
        if model and requested_model(model) != built_with:
            raise IndexMismatchError(f"the index was built with {built_with!r}, not {model!r}; "
                                     f"run {ingest_command(index_dir, f'--model {model}')} to rebuild it")
        # queries run on the runtime that made the index's vectors (int8, fp32, torch), whatever the environment
        # asks for now; a given embedder (a live swap) is kept only if it is that runtime
        variant = recorded_variant(manifest)
        if variant and embedder is not None and getattr(embedder, "backend", None) != manifest.get("backend"):
            embedder = None
        if variant and embedder is None and _asked_backend(built_with) != manifest.get("backend"):
            log.info("the index was embedded with the %s variant of the default model: its queries use it too "
                     "(re-ingest with $%s to change it)", variant, VARIANT_ENV)
        embedder = embedder or load_embedder(built_with, variant=variant)  # the ONNX model loads meanwhile
        store = load_index(Path(index_dir))
        if store.manifest.get("model") != built_with:  # rewritten between the two reads
            raise IndexMismatchError(f"the index in {index_dir} changed while loading; try again")
        if embedder.name != built_with or embedder.dim != store.manifest.get("dim"):
            raise IndexMismatchError(f"model {embedder.name!r} ({embedder.dim} dims) does not match the index "
                                     f"({built_with!r}, {store.manifest.get('dim')} dims); run "
                                     f"{ingest_command(index_dir)}")
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

    def _copies_in_other_reports(self) -> tuple[dict[int, tuple[int, ...]], dict[int, tuple[int, ...]]]:
        """(row -> the same text, folded, word for word, in each other report: its first row there, newest report
        first; row -> every other row of that text, in any report). Only rows of a text that is in two reports
        or more: a search shows it once (`_collect`)."""
        by_text: dict[str, list[int]] = {}
        for i, t in enumerate(self.folded):
            by_text.setdefault(t, []).append(i)
        copies: dict[int, tuple[int, ...]] = {}
        same: dict[int, tuple[int, ...]] = {}
        for rows in by_text.values():
            if len(rows) < 2:
                continue
            first = {}  # doc -> its first row with this text
            for r in rows:
                first.setdefault(self.passages[r].doc, r)
            if len(first) < 2:
                continue
            ordered = sorted(first.values(), key=lambda r: -(self.passages[r].year or 0))  # stable: row order
            for r in rows:
                copies[r] = tuple(o for o in ordered if self.passages[o].doc != self.passages[r].doc)
                same[r] = tuple(o for o in rows if o != r)
        return copies, same

    def sections(self, doc: str | None = None) -> list[str]:
        """The L2 headings (or L1 where there is no L2), in report order: the choices for a section filter; those
        of report `doc` only when given (an unknown doc: none), else the newest report's first, then those only
        older reports have."""
        by_doc = self._rows_by["doc"]
        rows = by_doc.get(doc, ()) if doc else [i for r in self.reports() for i in by_doc[r["doc"]]]
        ps = [self.passages[int(i)] for i in rows]
        seen = dict.fromkeys(p.section[1] if len(p.section) > 1 and p.section[1].startswith("（") else p.section[0]
                             for p in ps if p.section)  # L2 titles are canonicalised to `（…）`
        return list(seen)

    def passage(self, pid: str):
        i = self.row_of.get(pid)
        return None if i is None else self.passages[i]

    def _library_years(self, docs: Sequence[str] | None, year: int | None, section: str | None) -> set[int]:
        """The years of the reports a search with these filters may return (allowed_rows has checked them), when
        they are one government's: 去年 is then read in a library's terms (timeref.in_library). Reports of
        several regions: none (each report read in its own terms, as before libraries)."""
        kept = set(docs) if docs else set(self._doc_year)
        if year is not None:
            kept = {d for d in kept if self._doc_year[d] == year}
        if section:
            kept &= self._section_docs.get(section, set())
        if len({self._doc_region.get(d) for d in kept} - {None}) > 1:
            return set()
        return {y for y in (self._doc_year[d] for d in kept) if y is not None}

    def _keyword_query(self, q: str) -> tuple[str, list[str]]:
        folded = strip_question_words(fold(q))
        fq = join_digit_groups(folded)
        extra = expand(fq, self.glossary) if self.config.glossary else []
        # `13,710` is looked for as 13710, and as written: a report that writes it so is indexed in pieces
        return fq, extra + grouped_numbers(folded)

    def _keyword_scores(self, fq: str, extra: list[str]) -> np.ndarray:
        tokens = tokenize(" ".join([fq, *extra]), self.store.keyword.scheme, folded=True)
        return self.store.keyword.scores(tokens)

    def _dense_scores(self, qvec: np.ndarray, allowed: np.ndarray | None = None) -> dict[int, float]:
        # the top `candidates` by cosine, exactly what the fusion uses: a keyword candidate outside them
        # scores 0 on the dense side, i.e. below the weakest dense candidate
        ids, scores = self.store.dense.search(qvec, self.config.candidates, allowed=allowed)
        return dict(zip(ids.tolist(), scores.tolist()))  # Python ints and floats, converted in C

    # ------------------------------------------------------------ search
    def compare(self, query: str, mode: str = "hybrid", docs: Sequence[str] | None = None,
                year: int | None = None) -> Comparison:
        """The best passage of each report for one question (of those `docs` and `year` keep: both given, those
        both keep), newest report first; a report whose best passage is below the low-confidence line gets None
        (the query vector comes from the LRU cache). A doc id or year naming no report: as for `search`."""
        q, _ = normalize_query(query)
        allowed = self.allowed_rows(None, docs, year)
        kept = None if allowed is None else {self.passages[int(i)].doc for i in allowed}
        rows = []
        for r in self.reports():
            if kept is not None and r["doc"] not in kept:
                continue
            resp = self.search(q, mode=mode, top_k=1, docs=[r["doc"]])
            hit = resp.results[0] if resp.results and not resp.low_confidence else None
            rows.append(ReportHit(doc=r["doc"], doc_title=r["doc_title"], year=r["year"], hit=hit))
        return Comparison(query=q, mode=check_mode(mode), reports=tuple(rows))

    def search(self, query: str, mode: str = "hybrid", top_k: int = 5, section: str | None = None,
               docs: Sequence[str] | None = None, year: int | None = None) -> SearchResponse:
        """Filters (section heading, report doc ids, report year) apply before the candidate cut, so a
        filtered search still returns up to `top_k` results when the filtered part holds them."""
        q, notices = normalize_query(query)
        mode, top_k = check_mode(mode), check_top_k(top_k)
        allowed = self.allowed_rows(section, docs, year)
        cfg = self.config
        fq, extra = self._keyword_query(q)
        kw = self._keyword_scores(fq, extra) if mode != "semantic" else None
        # argpartition, not a full sort; only the allowed rows compete for the candidates
        keyword = dict(top_scores(kw, cfg.candidates, allowed)) if kw is not None else {}
        # what needs only the question is worked out before the model runs: the model's weights pass through
        # the caches, and the Python that follows a run runs slower for it
        terms = query_terms(fq, folded=True) + [t for t in extra if t]  # what the highlights mark
        years = self._library_years(docs, year, section)
        ref = in_library(question_time(q), years, asks_plan(q))
        ask, words = Ask.of(q, extra), content_words(fq)
        exact = exact_terms(q, self.glossary if self.config.glossary else None)
        qvec = self.embed_query(q) if mode != "keyword" else None
        dense = self._dense_scores(qvec, allowed) if qvec is not None else {}
        if mode == "semantic":
            ranked = ranked_items(dense)
        elif mode == "keyword":
            ranked = ranked_items(keyword)
        else:
            ranked = fuse(dense, keyword, cfg.fusion, cfg.alpha, cfg.rrf_k)
        library = len(years) > 1
        penalty = cfg.time_penalty_library if library and covered(ref, years) else cfg.time_penalty
        ranked = prefer_time(ranked, self.passages, ref, cfg.time_boost, penalty)
        if library and not ref:
            ranked = prefer_newest(ranked, self.passages, max(years), cfg.newest_boost_library)
        ranked = prefer_measure(ranked, self.folded, q, cfg.measure_boost)
        if self._several_years:  # the same paragraph in two years' reports: this year's first
            ranked = newer_first_on_ties(ranked, lambda i: self.passages[i].year)
        hits = self._collect(ranked, top_k, terms, qvec, ask)
        if exact and hits:
            # a term in the passage's headings counts: `乡村振兴` under （五）聚焦乡村振兴…
            lacks = missing(exact, [(self.folded[self.row_of[h.passage.id]], *map(fold, h.passage.section))
                                    for h in hits])
            hits = [replace(h, missing=m) if m else h for h, m in zip(hits, lacks)]
        low = self._low_confidence(fq, hits, dense, words, ref, max(years, default=None))
        return SearchResponse(query=q, mode=mode, results=tuple(hits), low_confidence=low, notices=tuple(notices))

    def _collect(self, ranked, top_k, terms, qvec, ask: Ask | None = None) -> list[Hit]:
        hits: list[Hit] = []
        clauses: set[tuple] = set()  # (doc, section) of clauses already shown
        shown: set[int] = set()  # rows of the same text as a passage already shown (Hit.also_in)
        for i, score in ranked:
            if i in shown:
                continue
            p = self.passages[i]
            if len(p.section) >= 3:
                if (p.doc, p.section) in clauses:
                    continue  # another piece of a clause that already ranked higher
                clauses.add((p.doc, p.section))
            copies = self._copies.get(i, ())
            shown.update(self._same_text.get(i, ()))
            hl = highlight_spans(self.folded[i], terms)
            hits.append(Hit(passage=p, score=score, rank=len(hits) + 1, highlights=tuple(hl),
                            answer=self._answer(i, hl, qvec, ask), neighbors=self.neighbors[i],
                            also_in=tuple(self.passages[r] for r in copies)))
            if len(hits) == top_k:
                break
        return hits

    def _sentences(self, i: int) -> tuple[list[tuple[int, int]], int, bool]:
        """(sentence spans of passage `i`, how many lead it as headings of its own section path, whether the
        spans are its stored sentence rows): the passage's alone, worked out on first use and kept."""
        got = self._spans[i]
        if got is None:
            p = self.passages[i]
            sids = self._sentences_of[i]
            rows = self.store.sentence_rows
            spans = [(int(rows[s, 1]), int(rows[s, 2])) for s in sids] or sentence_spans(p.text)
            titles = 0  # leading sentences that are headings of this passage (`建设健康沁水。提升医疗服务。…`)
            while titles < len(spans) and p.text[spans[titles][0]:spans[titles][1]].rstrip("。") in p.section:
                titles += 1
            got = self._spans[i] = (spans, titles, bool(sids) and len(sids) == len(spans))
        return got

    def _answer(self, i: int, hl, qvec, ask: Ask | None = None) -> Answer:
        p = self.passages[i]
        spans, titles, stored = self._sentences(i)
        sims = self.store.sentence_vectors[self._sentence_rows[i]] @ qvec if qvec is not None and stored else None
        k, fig = choose_answer_for(p.text, spans, hl, sims, titles, ask, folded=self.folded[i])
        a, b = spans[k] if k >= 0 else (0, len(p.text))
        return Answer(p.text[a:b], a, b, figure=Answer(*fig) if fig else None)

    def embed_query(self, q: str) -> np.ndarray:
        """The query's vector, from an LRU cache of the last `config.query_cache` distinct queries."""
        size = self.config.query_cache
        if size <= 0:
            return self.embedder.encode_queries([q])[0]
        cache, lock = self._qcache
        with lock:
            v = cache.get(q)
            if v is not None:
                cache.move_to_end(q)
                return v
        v = self.embedder.encode_queries([q])[0]
        v.setflags(write=False)  # shared by every later hit
        with lock:
            cache[q] = v
            while len(cache) > size:
                cache.popitem(last=False)
        return v

    def _df(self, term: str) -> int:
        """Passages containing `term`, from the keyword index's postings (built at ingest): the term's own
        token when indexed, else its rarest CJK bigram (an upper bound: a passage holding the word holds
        every bigram of it). O(length of the term), whatever the corpus size."""
        kw = self.store.keyword
        df = kw.df(term)
        if df or len(term) < 3 or not _CJK_WORD.fullmatch(term):
            return df
        return min(kw.df(term[i:i + 2]) for i in range(len(term) - 1))

    def _idf(self, term: str) -> float:
        return math.log((len(self.passages) + 1) / (self._df(term) + 0.5))

    def coverage(self, fq: str, hits: list[Hit], words: list[str] | None = None) -> float | None:
        """IDF-weighted share of the query's content words found in the best of the top 3 hits.

        `fq` is the folded query without question words. A word also counts as found when one of its
        glossary expansions is (`gdp` -> 地区生产总值), and a year when the hit is about that year (its section, as
        timeref.covered_year reads it). Relative time words (`去年`) are left to `out_of_time`:
        they name a part of every report, not words its passages hold. None for queries with no Chinese content
        words or numbers (English, say), where only the dense score can judge. `words` are `content_words(fq)`
        when the caller has them.
        """
        if not hits or (re.search(r"[a-z]{2}", fq) and not re.search(r"[\u3400-\u9fff]", fq)):
            return None
        words = [w for w in dict.fromkeys(content_words(fq) if words is None else words)
                 if not is_relative_time_word(w)]
        alts = {w: expand(w, self.glossary) for w in words}  # once per word, not per hit
        # a Latin word counts when the glossary or the reports know it (gdp, lng), not `is` or `how`
        words = [w for w in words if not ("a" <= w[0] <= "z") or alts[w] or self._df(w) > 0]
        if not words:
            return None
        weights = {w: self._idf(w) for w in words}
        total = sum(weights.values())
        years = {w: int(w) for w in words if _YEAR_WORD.fullmatch(w)}
        digits = any(c.isdigit() for w in words for c in w)
        best = 0.0
        for h in hits[:3]:
            p = h.passage
            text = self.folded[self.row_of[p.id]]
            if digits:  # `1,234万元` holds the query's 1234
                text = join_digit_groups(text)
            # a year is also found in a passage about that year: `2023年教育` under 二、2023年工作安排
            about = covered_year(p.section, p.year)[1] if years else None
            got = sum(wt for w, wt in weights.items()
                      if w in text or any(x in text for x in alts[w]) or years.get(w, 0) == about)
            best = max(best, got)
        return best / total if total > 0 else None

    def number_not_found(self, fq: str, hits: list[Hit]) -> bool:
        """True when the question names a number (two digits or more, not a year: `13710`, `999.9亿元`) that none
        of the top 3 hits holds: the figure asked for is not in the reports, however close the rest reads."""
        nums = numbers(fq, question_years(fq))
        if not nums or not hits:
            return False
        tops = [join_digit_groups(self.folded[self.row_of[h.passage.id]]).replace(" ", "") for h in hits[:3]]
        return any(not any(n in t for t in tops) for n in nums)

    def out_of_time(self, fq: str, hits: list[Hit], words: list[str] | None = None, ref: TimeRef | None = None,
                    newest: int | None = None) -> bool:
        """True when the question names a part of the reports (`去年`, `今年`, `前年`) or a year, and each of the
        top 3 hits is known to be about another time (timeref.answers_another_time) and does not name that year.
        `words`: as for `coverage`; `ref`: the question's time as the search read it (in_library), `newest`: the
        newest report it searched (default: the question's own words, the whole index)."""
        if not hits:
            return False
        words = content_words(fq) if words is None else words
        named = [w for w in words if _YEAR_WORD.fullmatch(w)]
        if not named and not any(is_relative_time_word(w) for w in words):
            return False
        if any(w in self.folded[self.row_of[h.passage.id]] for w in named for h in hits[:3]):
            return False  # `到2025年的目标`: a passage that names the year speaks about it, whatever its section
        return answers_another_time(question_time(fq) if ref is None else ref,
                                    [(h.passage.section, h.passage.year) for h in hits[:3]],
                                    self.newest_year if newest is None else newest)

    def _low_confidence(self, fq: str, hits: list[Hit], dense: dict[int, float],
                        words: list[str] | None = None, ref: TimeRef | None = None,
                        newest: int | None = None) -> bool:
        """`words`: `content_words(fq)` when the caller has them (worked out once for both checks); `ref`,
        `newest`: as for `out_of_time`."""
        if not hits:
            return True
        words = content_words(fq) if words is None else words
        if nothing_to_look_for(fq, words):  # `的`, `？`, `x`: whatever the scores, nothing was asked
            return True
        if self.number_not_found(fq, hits):  # `999.9亿元`: a staff member asked for that figure exactly
            return True
        if self.out_of_time(fq, hits, words, ref, newest):
            return True
        cfg = self.config
        coverage = self.coverage(fq, hits, words)
        top_dense = max(dense.values()) if dense else None
        if coverage is None:
            if cfg.low_conf_english_glossary and re.search(r"[a-z]{2}", fq):
                # English: flag when no glossary translation of its words (gdp -> 地区生产总值) is in the top 3
                found = [x for x in expand(fq, self.glossary) if x]
                tops = [self.folded[self.row_of[h.passage.id]] for h in hits[:3]]
                if not any(x in t for x in found for t in tops):
                    return True
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
