"""The record types that flow through ingest, index, engine, CLI, API, UI and eval."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Passage:
    """One clause-level passage of a report, in the report's own words."""

    id: str
    doc: str
    section: tuple[str, ...]
    text: str
    start: int = 0  # character offsets into the cleaned document text
    end: int = 0
    doc_title: str = ""  # the report as people name it: `沁水县2023年政府工作报告`
    year: int | None = None  # the report's year (its meeting date)

    def to_dict(self) -> dict:
        return {"id": self.id, "doc": self.doc, "doc_title": self.doc_title or self.doc, "year": self.year,
                "section": list(self.section), "text": self.text, "start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, d: dict) -> "Passage":
        """Tolerant of rows written before `doc_title` and `year` existed."""
        year = d.get("year")
        return cls(id=d["id"], doc=d["doc"], section=tuple(d["section"]), text=d["text"],
                   start=int(d.get("start", 0)), end=int(d.get("end", 0)),
                   doc_title=str(d.get("doc_title") or ""), year=int(year) if year not in (None, "") else None)


@dataclass(frozen=True)
class Answer:
    """The single most relevant sentence of a passage, as a span of its text."""

    text: str
    start: int
    end: int
    figure: "Answer | None" = None  # for a quantity question: the figure (`65座`) as a span of the passage text

    def to_dict(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end,
                "figure": {"text": self.figure.text, "start": self.figure.start, "end": self.figure.end}
                if self.figure else None}


@dataclass(frozen=True)
class Hit:
    """A ranked passage with its score and what made it match."""

    passage: Passage
    score: float
    rank: int = 0
    highlights: tuple[tuple[int, int], ...] = ()
    answer: Answer | None = None
    neighbors: tuple[str, ...] = ()
    # the same text, word for word, in other reports of the library (a paragraph kept from year to year), newest
    # first: shown once, here, instead of once per year
    also_in: tuple[Passage, ...] = ()
    # what the query asks for word for word (a number, a quoted phrase, a one-term query) that neither this
    # passage's text nor its headings hold, as the user typed it: `13710` on a result found by meaning alone
    missing: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        p = self.passage
        ans = self.answer or Answer(p.text, 0, len(p.text))
        return {"rank": self.rank, "score": round(float(self.score), 6), "id": p.id,
                "doc": p.doc, "doc_title": p.doc_title or p.doc, "year": p.year,
                "section": list(p.section), "text": p.text,
                "highlights": [list(h) for h in self.highlights],
                "answer": ans.to_dict(),
                "neighbors": list(self.neighbors),
                "also_in": [{"id": o.id, "doc": o.doc, "doc_title": o.doc_title or o.doc, "year": o.year}
                            for o in self.also_in],
                "missing": list(self.missing)}


@dataclass(frozen=True)
class SearchResponse:
    """What every front end returns: the query, the mode, a confidence flag and the hits."""

    query: str
    mode: str
    results: tuple[Hit, ...] = ()
    low_confidence: bool = False
    notices: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        d = {"query": self.query, "mode": self.mode, "low_confidence": self.low_confidence,
             "results": [h.to_dict() for h in self.results]}
        if self.notices:
            d["notices"] = list(self.notices)
        return d


@dataclass(frozen=True)
class ReportHit:
    """One report's best passage for a question (None when nothing in it clears the low-confidence line)."""

    doc: str
    doc_title: str
    year: int | None
    hit: Hit | None

    def to_dict(self) -> dict:
        return {"doc": self.doc, "doc_title": self.doc_title, "year": self.year,
                "hit": self.hit.to_dict() if self.hit else None}


@dataclass(frozen=True)
class Comparison:
    """The same question asked of every report in the library, newest report first."""

    query: str
    mode: str
    reports: tuple[ReportHit, ...] = ()

    def to_dict(self) -> dict:
        return {"query": self.query, "mode": self.mode, "reports": [r.to_dict() for r in self.reports]}
