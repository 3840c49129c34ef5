"""Report readers by file extension: .txt/.md, .pdf, .docx, .html/.htm (see `base.Reader`)."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from ..errors import InputError
from .base import Paragraph, Reader, SourceText

__all__ = ["Paragraph", "Reader", "SourceText", "EXTENSIONS", "reader_for", "read_source"]


# extension -> (module, class); a reader's library is imported only when a file of its kind is read
_BY_EXTENSION = {".txt": ("text", "TextReader"), ".md": ("text", "TextReader"), ".pdf": ("pdf", "PdfReader"),
                 ".docx": ("docx", "DocxReader"), ".html": ("html", "HtmlReader"), ".htm": ("html", "HtmlReader")}
EXTENSIONS = tuple(_BY_EXTENSION)


def reader_for(path: str | Path) -> Reader:
    """The reader for this file's extension; an unknown extension is an InputError listing the known ones."""
    suffix = Path(path).suffix.lower()
    if suffix in _BY_EXTENSION:
        module, cls = _BY_EXTENSION[suffix]
        return getattr(import_module(f"{__name__}.{module}"), cls)()
    if suffix == ".doc":
        raise InputError(f"{path}: old binary Word (.doc) files are not supported; save it as .docx")
    raise InputError(f"{path}: unsupported file type {suffix or '(no extension)'!r}; "
                     f"supported: {', '.join(EXTENSIONS)}")


def read_source(path: str | Path) -> SourceText:
    """Read any supported report file into paragraphs + format metadata."""
    return reader_for(path).read(Path(path))
