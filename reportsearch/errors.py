"""Named exceptions raised by the package; entry points translate them into one clear line."""


class ReportSearchError(Exception):
    """Base class: the message is one line a user can act on."""

    exit_code = 1


class InputError(ReportSearchError):
    """A report file or a query that cannot be used as given."""

    exit_code = 2


class QueryError(InputError):
    """An empty, whitespace-only or otherwise unusable query."""


class IndexMissingError(ReportSearchError):
    """No index exists where one was expected."""


class IndexMismatchError(ReportSearchError):
    """The index on disk disagrees with its manifest, the model or the sources."""


class IndexWriteError(ReportSearchError):
    """The index cannot be written where asked without replacing something this tool did not make."""


class ModelError(ReportSearchError):
    """The embedding model cannot be built, found or loaded."""
