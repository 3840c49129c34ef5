"""The index folder as one unit: a versioned, checksummed manifest over passages, FAISS, BM25 and sentence vectors."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .defaultmodel import sha256_file
from .dense import DenseIndex
from .errors import IndexDamagedError, IndexMismatchError, IndexMissingError, IndexWriteError
from .keyword import KeywordIndex
from .records import Passage

SCHEMA = 2
KEY_DTYPE = "S20"  # SHA-1 digest of what the model embedded: the embedding cache's key


@dataclass
class IndexStore:
    """Everything one search needs, loaded once."""

    folder: Path
    manifest: dict
    passages: list[Passage]
    dense: DenseIndex
    keyword: KeywordIndex
    sentence_vectors: np.ndarray  # (n_sentences, dim), normalized
    sentence_rows: np.ndarray  # (n_sentences, 3): passage row, start, end
    documents: dict = field(default_factory=dict)  # doc -> {"meta": ..., "outline": [...]}
    passage_keys: np.ndarray | None = None  # (n_passages,) KEY_DTYPE, aligned with the dense rows
    sentence_keys: np.ndarray | None = None  # (n_sentences,) KEY_DTYPE, aligned with sentence_vectors

    @property
    def count(self) -> int:
        return len(self.passages)

    @property
    def version(self) -> int:
        return int(self.manifest.get("version", 0))


FORMAT = "reportsearch-index"
_KEEP = ("README.md",)  # a note beside the index (the project ships index/README.md); kept across rebuilds
_FILES = ("passages.jsonl", "dense.faiss", "sentences.npy", "sentence_rows.npy", "documents.json",
          "passage_keys.npy", "sentence_keys.npy")  # beside manifest.json and keyword/: what `write_index` writes
PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX = PROJECT / "index"


def ingest_command(folder: Path | str, args: str = "") -> str:
    """`python ingest.py [ARGS] [--index-dir FOLDER]`: the command for this index folder (the default one is
    left out), run from where the user is."""
    where = "" if Path(folder).resolve() == DEFAULT_INDEX else f" --index-dir {shlex.quote(str(folder))}"
    # from another working folder, the script by its full path (the paths in ARGS and FOLDER are the user's own)
    script = "ingest.py" if Path.cwd().resolve() == PROJECT.resolve() else shlex.quote(str(PROJECT / "ingest.py"))
    return f"`python {script}{' ' + args if args else ''}{where}`"


def rebuild_hint(folder: Path | str) -> str:
    """`run `python ingest.py …` to rebuild it`: the rebuild that keeps every report the folder's manifest lists
    (read leniently: a damaged index's manifest usually still reads). It is plain `python ingest.py` when they all
    come from files in data/ (what a rebuild reads by default) or when no manifest lists them; else it names their
    recorded files, and says which of them are no longer there (see `rebuild_advice`)."""
    return rebuild_advice(folder, recorded_reports(Path(folder)) or [])


def _index_error(cls: type, problem: str, folder: Path | str, sep: str = ": ") -> Exception:
    """`cls("PROBLEM: run … to rebuild it")`, with the problem alone as `.problem` (for a rebuild that is replacing
    the index, whose own hint would be the command already running). The hint is made only here, when raising:
    it reads the manifest again."""
    e = cls(f"{problem}{sep}{rebuild_hint(folder)}")
    e.problem = problem
    return e


def rebuild_advice(folder: Path | str, reports: list[dict]) -> str:
    """`run CMD to rebuild it`, CMD a rebuild that keeps `reports` (manifest entries): plain when their recorded
    files are all in data/, else from those files; a report whose file is not there is named, with a PATH for it
    in CMD, and the rebuild without it (--drop-others) is given too when other files are there to rebuild from."""
    found, lost = source_files(reports)
    default = PROJECT / "data"  # what `ingest.py` reads without paths (ingest.DEFAULT_DATA)
    if not lost and all(f.is_relative_to(default) for f in found):
        return f"run {ingest_command(folder)} to rebuild it"
    command, note = keeping_command(folder, [], reports)
    if not lost:
        return f"run {command} to rebuild it"
    advice = f"run {command} to rebuild it, {note}"
    if found:
        shown = " ".join(shown_path(f) for f in dict.fromkeys(found))
        advice += (f"; or run {ingest_command(folder, shown + ' --drop-others')} to rebuild it without "
                   f"{', '.join(r['doc'] for r in lost)}")
    return advice


def keeping_command(folder: Path | str, given: list[Path], reports: list[dict]) -> tuple[str, str]:
    """(the rebuild from the `given` files and the recorded files of `reports` (manifest entries), a PATH for each
    report whose file is not there; "" or `PATH being the file of …` naming those)."""
    found, lost = source_files(reports)
    shown = [shown_path(p) for p in dict.fromkeys([*given, *found])]
    command = ingest_command(folder, " ".join(shown + ["PATH"] * len(lost)))
    return command, (f"{'PATH being' if len(lost) == 1 else 'the PATHs being'} {lost_files(lost)}" if lost else "")


def source_file(source: object) -> Path | None:
    """The file a report's recorded `source` names, if it is still there. A source is recorded relative to the
    project (`reports/x.pdf`); a file read from outside the project by its name only, which cannot be found."""
    if not isinstance(source, str) or not source:
        return None
    p = PROJECT / source
    return p if p.is_file() else None


def source_files(reports: list[dict]) -> tuple[list[Path], list[dict]]:
    """(the recorded files of `reports` that are still there, the reports whose recorded file is not)."""
    found, lost = [], []
    for r in reports:
        p = source_file(r.get("source"))
        if p is None:
            lost.append(r)
        else:
            found.append(p)
    return found, lost


def lost_files(lost: list[dict]) -> str:
    """`the file of qinshui-2024 (recorded by its name only, qinshui-2024.txt: it was read from outside the
    project)`: reports whose recorded file is not there, and why it cannot be found."""
    def one(r: dict) -> str:
        src = r.get("source")
        if not isinstance(src, str) or not src:
            return f"{r['doc']} (no file recorded)"
        if "/" not in src:
            return f"{r['doc']} (recorded by its name only, {src}: it was read from outside the project)"
        return f"{r['doc']} ({src}, no longer there)"

    return f"the file{'s' if len(lost) > 1 else ''} of {', '.join(one(r) for r in lost)}"


def shown_path(path: Path) -> str:
    """A file as a command line gives it: relative to the working folder when inside it, shell-quoted."""
    p = Path(path)
    try:
        p = p.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        pass
    return shlex.quote(p.as_posix())


def is_our_index(folder: Path) -> bool:
    """True when `folder` holds a manifest of this project's index format (any schema version)."""
    try:
        m = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(m, dict) and (m.get("format") == FORMAT or ("schema" in m and "model" in m and "count" in m))


def _damaged_ours(folder: Path) -> bool:
    """An index of ours whose manifest no longer reads as JSON: beside it the files an index is made of, with
    passages.jsonl, dense.faiss and keyword/ among them, and nothing else (a README.md aside); inside keyword/ only
    files the keyword index writes. Then a rebuild may replace it. A manifest that still reads is judged by
    `is_our_index` alone, so another tool's folder with a manifest.json of its own is never taken for ours."""
    try:
        json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return False  # it reads: ours only if is_our_index says so
    except (OSError, ValueError):
        pass
    entries = {p.name: p for p in folder.iterdir()}
    if not {"manifest.json", "passages.jsonl", "dense.faiss", "keyword"} <= set(entries):
        return False
    for name, p in entries.items():
        if p.is_symlink() or not (p.is_dir() if name == "keyword" else
                                  p.is_file() and name in ("manifest.json", *_FILES, *_KEEP)):
            return False
    return all(k.is_file() and not k.is_symlink() and (k.name.endswith((".index.npy", ".index.json"))
                                                       or k.name in ("tokenizer.json", "tokens.txt"))
               for k in entries["keyword"].iterdir())


def recorded_reports(folder: Path) -> list[dict] | None:
    """The `reports` a folder's manifest lists, read leniently (an older schema, a checksum that no longer
    matches): None when there is no manifest or it does not read as JSON with such a list."""
    try:
        m = json.loads((_index_folder(Path(folder)) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    reports = m.get("reports") if isinstance(m, dict) else None
    return [r for r in reports if isinstance(r, dict) and "doc" in r] if isinstance(reports, list) else None


def _ours_or_empty(folder: Path) -> bool:
    return is_our_index(folder) or all(p.name in _KEEP and p.is_file() for p in folder.iterdir()) \
        or _damaged_ours(folder)


def check_index_dir(folder: Path) -> None:
    """Refuse to write where the tool would replace something it did not make.

    Allowed: a missing folder, an empty one (or one holding only a README.md), or an index this tool built.
    """
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return
    if not folder.is_dir():
        raise IndexWriteError(f"index folder {folder} is a file, not a folder; choose another --index-dir")
    if not _ours_or_empty(folder):
        raise IndexWriteError(f"{folder} is not an index folder (it holds files this tool did not make); "
                              f"refusing to write there: choose a new or empty --index-dir")
    _check_removable(_old_path(folder))


def _check_removable(path: Path) -> None:
    """A sibling left by an earlier swap may be deleted only when it is an index this tool made."""
    if (path.exists() or path.is_symlink()) and (not path.is_dir() or path.is_symlink() or not _ours_or_empty(path)):
        raise IndexWriteError(f"{path} is in the way of the index swap and was not made by this tool; "
                              f"move it away and run again")


def _manifest_digest(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def _file_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file the index is made of (not the manifest, not a README beside it)."""
    return {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "manifest.json" and p.relative_to(folder).as_posix() not in _KEEP}


def write_index(folder: Path, manifest: dict, passages: list[Passage], dense: DenseIndex, keyword: KeywordIndex,
                sentence_vectors: np.ndarray, sentence_rows: np.ndarray, documents: dict,
                passage_keys: np.ndarray | None = None, sentence_keys: np.ndarray | None = None) -> dict:
    """Write into a temporary sibling folder, then swap it in; an interrupted run leaves the old index intact.

    The manifest gets the next version number and a SHA-256 of every file; the written manifest is returned.
    """
    folder = Path(folder)
    check_index_dir(folder)
    previous = _previous_version(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.build-", dir=folder.parent))
    os.chmod(tmp, 0o755)
    try:
        with open(tmp / "passages.jsonl", "w", encoding="utf-8") as f:
            for p in passages:
                f.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
        dense.save(tmp / "dense.faiss")
        keyword.save(tmp / "keyword")
        np.save(tmp / "sentences.npy", np.ascontiguousarray(sentence_vectors, dtype=np.float32))
        np.save(tmp / "sentence_rows.npy", np.ascontiguousarray(sentence_rows, dtype=np.int64))
        (tmp / "documents.json").write_text(json.dumps(documents, ensure_ascii=False, indent=1), encoding="utf-8")
        n_sent = len(sentence_rows)
        np.save(tmp / "passage_keys.npy", _keys(passage_keys, len(passages)))
        np.save(tmp / "sentence_keys.npy", _keys(sentence_keys, n_sent))
        files = _file_digests(tmp)
        for name in _KEEP:
            if (folder / name).is_file():
                shutil.copy2(folder / name, tmp / name)
        manifest = dict(manifest, format=FORMAT, schema=SCHEMA, version=previous + 1, count=len(passages),
                        created=datetime.now(timezone.utc).isoformat(timespec="seconds"), files=files)
        manifest["manifest_sha256"] = _manifest_digest(manifest)
        _write_synced(tmp / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        _swap_in(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _keys(keys: np.ndarray | None, n: int) -> np.ndarray:
    if keys is None:
        return np.zeros(n, dtype=KEY_DTYPE)  # no cache keys: nothing will be reused from this index
    keys = np.asarray(keys, dtype=KEY_DTYPE)
    if keys.shape != (n,):
        raise ValueError(f"{len(keys)} cache keys for {n} rows")
    return keys


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def manifest_version(folder: Path) -> int | None:
    """The version a folder's manifest announces (None while it is missing or unreadable, e.g. mid-swap)."""
    try:
        return int(json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8")).get("version", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def manifest_identity(folder: Path) -> tuple[int, str | None] | None:
    """(version, the manifest's own SHA-256) a folder's manifest announces: the SHA-256 tells two writes apart
    that share a version (an index deleted and built again starts at 1 again); None while it is missing or
    unreadable."""
    try:
        m = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
        return int(m.get("version", 0)), m.get("manifest_sha256")
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def _previous_version(folder: Path) -> int:
    """The version of the index being replaced (0 when there is none), so versions only ever go up."""
    for candidate in (folder, _old_path(folder)):
        v = manifest_version(candidate)
        if v is not None:
            return v
    return 0


def _old_path(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.old"


def _remove_ours(path: Path) -> None:
    _check_removable(path)
    if path.exists():
        shutil.rmtree(path)


def _swap_in(tmp: Path, folder: Path) -> None:
    old = _old_path(folder)
    _remove_ours(old)  # a previous interrupted swap (the next write is where recovery happens)
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    _remove_ours(old)


def _index_folder(folder: Path) -> Path:
    """Where to read from: the folder, or, if a swap was interrupted between its two renames, the previous
    index left beside it. Reading never moves or deletes anything; the next write cleans up."""
    old = _old_path(folder)
    if not (folder / "manifest.json").exists() and (old / "manifest.json").exists():
        return old
    return folder


def read_manifest(folder: Path) -> dict:
    path = _index_folder(Path(folder)) / "manifest.json"
    if not path.is_file():
        raise IndexMissingError(f"no index in {folder}/: run {ingest_command(folder)} first")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise _index_error(IndexMismatchError, f"{path} is not valid JSON", folder, "; ") from e
    if not isinstance(manifest, dict):
        raise _index_error(IndexDamagedError, f"index file manifest.json in {path.parent}/ is damaged", folder)
    if manifest.get("schema") != SCHEMA:
        raise _index_error(IndexMismatchError, f"index schema {manifest.get('schema')} is not the supported "
                           f"{SCHEMA}", folder, "; ")
    if manifest.get("manifest_sha256") != _manifest_digest(manifest):
        raise _index_error(IndexDamagedError, f"index file manifest.json in {path.parent}/ is damaged", folder)
    return manifest


def verify_files(folder: Path, manifest: dict, given: Path | None = None) -> None:
    """Every file the manifest lists must be there with its recorded SHA-256 (a few ms for one report).
    `given`: the folder as the user named it, for the hint (default `folder`)."""
    named = given or folder
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise _index_error(IndexDamagedError, f"index file manifest.json in {folder}/ lists no files", named)
    for name, digest in files.items():
        p = folder / name
        if not p.is_file():
            raise _index_error(IndexDamagedError, f"index file {name} is missing from {folder}/", named)
        if sha256_file(p) != digest:
            raise _index_error(IndexDamagedError, f"index file {name} is damaged", named)


def portable_path(path: Path) -> str:
    """How a source is recorded: relative to the project when inside it (`data/x.txt`), else its file name."""
    p = Path(path).resolve()
    try:
        return p.relative_to(PROJECT).as_posix()
    except ValueError:
        return p.name


def check_sources(manifest: dict, folder: Path = DEFAULT_INDEX) -> None:
    """Every recorded project-relative source that still exists must still have the recorded SHA-256."""
    for src in manifest.get("sources", []):
        p = Path(src["path"])
        if not p.is_absolute():
            p = PROJECT / p
        if p.is_file() and sha256_file(p) != src["sha256"]:
            raise _index_error(IndexMismatchError, f"{p} changed since the index was built", folder, "; ")


def load_index(folder: Path, check_source_hashes: bool = True) -> IndexStore:
    """Load and cross-check every part of the index; any disagreement is a named error.

    A write that swaps a new version in while this reads could mix the files of two versions, so the manifest
    is read again afterwards and the load retried when it changed.
    """
    for _ in range(3):
        store = _load_once(folder, check_source_hashes)
        if read_manifest(Path(folder)).get("manifest_sha256") == store.manifest.get("manifest_sha256"):
            return store
    return _load_once(folder, check_source_hashes)


def _load_once(folder: Path, check_source_hashes: bool) -> IndexStore:
    given = Path(folder)
    folder = _index_folder(given)
    manifest = read_manifest(given)
    verify_files(folder, manifest, given)
    if check_source_hashes:
        check_sources(manifest, given)
    try:
        with open(folder / "passages.jsonl", encoding="utf-8") as f:
            passages = [Passage.from_dict(json.loads(line)) for line in f if line.strip()]
        dense = DenseIndex.load(folder / "dense.faiss")
        keyword = KeywordIndex.load(folder / "keyword")
        svec = np.load(folder / "sentences.npy", allow_pickle=False)
        srows = np.load(folder / "sentence_rows.npy", allow_pickle=False)
        documents = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
        pkeys = np.load(folder / "passage_keys.npy", allow_pickle=False)
        skeys = np.load(folder / "sentence_keys.npy", allow_pickle=False)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise _index_error(IndexMismatchError, f"index in {folder}/ is incomplete or damaged ({type(e).__name__})",
                           given, "; ") from e
    n = manifest.get("count")
    checks = [("passages.jsonl", len(passages)), ("dense.faiss", dense.count), ("keyword index", keyword.count)]
    for what, got in checks:
        if got != n:
            raise _index_error(IndexMismatchError, f"{what} holds {got} passages but the manifest says {n}", given,
                               "; ")
    if dense.dim != manifest.get("dim") or (len(svec) and svec.shape[1] != manifest.get("dim")):
        raise _index_error(IndexMismatchError, f"vector dimension {dense.dim} does not match the manifest's "
                           f"{manifest.get('dim')}", given, "; ")
    if len(srows) != len(svec):
        raise _index_error(IndexMismatchError, "sentence vectors and sentence rows disagree", given, "; ")
    if pkeys.shape != (n,) or skeys.shape != (len(svec),):
        raise _index_error(IndexMismatchError, "embedding cache keys disagree with the rows they belong to", given,
                           "; ")
    return IndexStore(folder, manifest, passages, dense, keyword, svec, srows, documents, pkeys, skeys)
