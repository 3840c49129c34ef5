"""The ingest pipeline: find report files, read and chunk them, and hand them to the library to index."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .background import in_background
from .chunking import BODY_CHARS, MAX_CHARS, chunk
from .defaultmodel import DEFAULT_MODEL_ID, ensure_default_model, sha256_file
from .embedding import Embedder, load_embedder, requested_model
from .errors import InputError
from .library import DEFAULT_EMBED_INPUT, PreparedReport, UpdateResult, update_index
from .parsing import parse_file
from .readers import EXTENSIONS, reader_for
from .store import DEFAULT_INDEX, PROJECT, check_index_dir, portable_path, recorded_reports
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
                   title: str | None = None, year: int | None = None, region: str | None = None,
                   sha256: str | None = None) -> PreparedReport:
    """Read, parse and chunk one report file; raises InputError naming the file when it cannot be used.

    `title`, `year`, `region` fill in metadata the report and its file name do not give (see parsing.report_meta).
    `sha256`: the file's, when the caller has it already.
    """
    d = parse_file(src, title=title, year=year, region=region)
    ps = chunk(d, max_chars=max_chars, body_chars=body_chars)
    if not ps:
        raise InputError(f"{src}: no passages could be cut from this report")
    ps = [replace(p, doc_title=d.meta.get("doc_title", ""), year=d.meta.get("year")) for p in ps]
    info = {"path": portable_path(src), "meta": d.meta, "outline": [list(o) for o in d.outline]}
    return PreparedReport(doc=d.doc, info=info, passages=ps, sha256=sha256 or sha256_file(src),
                          source=portable_path(src), path=str(src))


def recorded_fallbacks(index_dir: Path) -> Callable[[Path, str, dict], dict]:
    """The fallbacks for one file (its path and SHA-256): the `given` year, region and title (the command
    line's), and, where these are not given, for a file the index already records (by its SHA-256), the ones its
    report was recorded with (its title only while the year and region stay as recorded: it names them). So a
    report added with `--region/--year/--title` (its text gives none) keeps its doc id and metadata when it is read
    again without them, by a rebuild from the files (the repair a damaged index's error asks for) or another
    `add`. The manifest is read leniently, as the repair hint reads it. Where several reports record the same
    file with different metadata, the one recorded from this path is taken; when that does not settle it, none
    (the file alone cannot tell which was meant)."""
    by_sha: dict[str, list[dict]] = {}
    for r in recorded_reports(index_dir) or []:
        if isinstance(r.get("sha256"), str):
            by_sha.setdefault(r["sha256"], []).append(r)

    def meta(r: dict) -> tuple:
        year = r.get("year")  # a hand-edited manifest may hold anything
        year = int(year) if (isinstance(year, int) and not isinstance(year, bool)
                             or isinstance(year, str) and year.isdigit()) else None
        region = r.get("region") if isinstance(r.get("region"), str) and r.get("region") else None
        title = r.get("title")  # a report recorded without one has its doc id there, no title
        title = title if isinstance(title, str) and title and title != r["doc"] else None
        return year, region, title

    def fallbacks(src: Path, sha: str, given: dict) -> dict:
        out = {k: given.get(k) if given.get(k) not in (None, "") else None for k in ("year", "region", "title")}
        held = by_sha.get(sha, [])
        held = [r for r in held if r.get("source") == portable_path(src)] or held
        found = {meta(r) for r in held}
        if len(found) != 1:
            return out
        was = dict(zip(("year", "region", "title"), found.pop()))
        if any(out[k] is not None and out[k] != was[k] for k in ("year", "region")):
            was["title"] = None  # the recorded title names the old year and region (`阳城县2025年…`)
        return {k: was[k] if v is None else v for k, v in out.items()}

    return fallbacks


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

    `title`, `year`, `region` are fallbacks for every file; a file the index already records (by its SHA-256) falls
    back on its report's recorded ones where these are not given, so it keeps its doc id (see recorded_fallbacks).
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
    recorded = recorded_fallbacks(Path(index_dir))
    given = {"title": title, "year": year, "region": region}
    reports = []
    for src in sources:  # what the command line gives wins; else what the index recorded for this very file
        sha = sha256_file(src)
        reports.append(prepare_report(src, max_chars=max_chars, body_chars=body_chars, sha256=sha,
                                      **recorded(src, sha, given)))
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
