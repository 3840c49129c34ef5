"""The ingest pipeline: find report files, read and chunk them, and hand them to the library to index."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Sequence

from .background import in_background
from .chunking import BODY_CHARS, MAX_CHARS, chunk
from .defaultmodel import DEFAULT_MODEL_ID, ensure_default_model, sha256_file
from .embedding import Embedder, load_embedder, requested_model
from .errors import InputError
from .library import DEFAULT_EMBED_INPUT, PreparedReport, UpdateResult, update_index
from .parsing import parse_file
from .readers import EXTENSIONS, reader_for
from .store import DEFAULT_INDEX, PROJECT, check_index_dir, portable_path
from .tokenize import DEFAULT_SCHEME

log = logging.getLogger(__name__)

DEFAULT_DATA = PROJECT / "data"


def find_sources(paths: Sequence[str | Path] = ()) -> list[Path]:
    """Expand files and folders into the reports to ingest (.txt .md .pdf .docx .html .htm; default: data/).

    A file named explicitly must have a supported extension; folders contribute only supported files."""
    roots = [Path(p) for p in paths] or [DEFAULT_DATA]
    out: list[Path] = []
    for root in roots:
        if not root.exists():
            raise InputError(f"{root}: no such file or folder")
        if root.is_dir():
            found = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS
                           and not p.name.startswith((".", "~$")))
            if not found:
                raise InputError(f"{root}: no reports in this folder (looked for {' '.join(EXTENSIONS)})")
            out.extend(found)
        else:
            reader_for(root)  # an unknown extension fails here, before any file is read
            out.append(root)
    return list(dict.fromkeys(p.resolve() for p in out))


def prepare_report(src: Path, max_chars: int = MAX_CHARS, body_chars: int = BODY_CHARS, *,
                   title: str | None = None, year: int | None = None, region: str | None = None) -> PreparedReport:
    """Read, parse and chunk one report file; raises InputError naming the file when it cannot be used.

    `title`, `year`, `region` fill in metadata the report and its file name do not give (see parsing.report_meta).
    """
    d = parse_file(src, title=title, year=year, region=region)
    ps = chunk(d, max_chars=max_chars, body_chars=body_chars)
    if not ps:
        raise InputError(f"{src}: no passages could be cut from this report")
    ps = [replace(p, doc_title=d.meta.get("doc_title", ""), year=d.meta.get("year")) for p in ps]
    info = {"path": portable_path(src), "meta": d.meta, "outline": [list(o) for o in d.outline]}
    return PreparedReport(doc=d.doc, info=info, passages=ps, sha256=sha256_file(src), source=portable_path(src),
                          path=str(src))


def warn_missing_meta(src: Path, report: PreparedReport) -> None:
    """A report whose text and file name give no year or region is accepted, with one warning that says what it
    costs and how to give them."""
    meta = report.info.get("meta", {})
    missing = [k for k in ("year", "region") if not meta.get(k)]
    if missing:
        log.warning("warning: %s: no %s found in the report or its file name: give %s (its doc id is %r%s)", src,
                    " or ".join(missing), " and ".join(f"--{m}" for m in missing), report.doc,
                    "; without a year it is left out of year filters and listed last in comparisons"
                    if "year" in missing else "")


def load_model(model: str | None = None, progress: bool = True) -> Embedder:
    """The model for embedding passages; a first run's build of the default model shows its progress bar only
    with `progress` (`ingest.py --quiet` shows none)."""
    if requested_model(model) == DEFAULT_MODEL_ID:
        ensure_default_model(progress=progress)  # load_embedder then finds it built
    return load_embedder(model, warm="passage")


def ingest_paths(paths: Iterable[str | Path] = (), index_dir: str | Path = DEFAULT_INDEX, *, rebuild: bool = True,
                 model: str | None = None, embedder: Embedder | None = None,
                 embed_input: str = DEFAULT_EMBED_INPUT, scheme: str = DEFAULT_SCHEME,
                 max_chars: int = MAX_CHARS, body_chars: int = BODY_CHARS, progress: bool = True,
                 title: str | None = None, year: int | None = None, region: str | None = None,
                 sentence_vectors: str | None = None, drop_others: bool = False) -> UpdateResult:
    """Rebuild the index from these reports (`rebuild`), or add them to it, replacing reports of the same doc id.

    A rebuild refuses to drop reports the index holds that are not among these (added with `ingest.py add`, say)
    unless `drop_others`.

    `sentence_vectors`: "late" or "separate" (see library.update_index); None keeps the index's own kind when
    adding to it, and a rebuild or a new index takes "late" where the embedder can.

    Every file is read before anything is written: one bad file and the index stays as it was. Vectors the
    current index already holds are reused. An `add` loads the model only if something new must be embedded;
    a rebuild starts loading it at once, in the background, while the reports are read.
    """
    check_index_dir(Path(index_dir))  # fail before any work, and before touching anything
    sources = find_sources(list(paths))
    name = embedder.name if embedder is not None else requested_model(model)
    if embedder is None and rebuild:  # a rebuild nearly always embeds: load the model while the reports are read
        # a daemon: when a report turns out unreadable, `ingest.py` reports it at once instead of waiting for the
        # load (a first run's is the whole model build)
        factory = in_background(load_model, model, progress, name="model-load", daemon=True).result
    else:
        factory = lambda: embedder or load_model(model, progress)  # noqa: E731 - only when needed
    reports = [prepare_report(src, max_chars=max_chars, body_chars=body_chars, title=title, year=year, region=region)
               for src in sources]
    result = update_index(index_dir, add=reports, rebuild=rebuild, embedder_factory=factory,
                          model_name=name, embed_input=embed_input, scheme=scheme,
                          chunking={"max_chars": max_chars, "body_chars": body_chars}, progress=progress,
                          sentence_vectors=sentence_vectors, drop_others=drop_others)
    for src, r in zip(sources, reports):  # once the index is written: a run that fails prints its error alone
        warn_missing_meta(src, r)
    return result


def remove_reports(doc_ids: Sequence[str], index_dir: str | Path = DEFAULT_INDEX) -> UpdateResult:
    """Remove reports by doc id; embeds nothing. An unknown id is an InputError listing the known ones."""
    from .store import read_manifest

    manifest = read_manifest(Path(index_dir))
    return update_index(index_dir, remove=list(doc_ids),
                        embedder_factory=lambda: load_model(manifest["model"], progress=False),
                        model_name=manifest["model"], embed_input=manifest["chunking"]["embed_input"],
                        scheme=manifest["keyword"]["scheme"], chunking={k: v for k, v in manifest["chunking"].items()
                                                                         if k != "embed_input"}, progress=False)


def build_index(paths: Iterable[str | Path] = (), index_dir: str | Path = DEFAULT_INDEX, **kwargs) -> dict:
    """Build the whole index from these reports (default: data/), logging its summary; return its manifest."""
    result = ingest_paths(paths, index_dir, rebuild=True, **kwargs)
    log.info("%s", result.summary())
    return result.manifest
