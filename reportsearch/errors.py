"""Named exceptions raised by the package; entry points translate them into one clear line."""


class ReportSearchError(Exception):
    """Base class: the message is one line a user can act on."""

    exit_code = 1


class InputError(ReportSearchError):
    """A report file or a query that cannot be used as given."""

    exit_code = 2


class QueryError(InputError):
    """An empty, whitespace-only or otherwise unusable query."""


class EmptyQueryError(QueryError):
    """A query with nothing in it but whitespace."""


class UnknownFilterError(QueryError):
    """A report filter (doc id, year) that names no report of the index being served."""


class IndexMissingError(ReportSearchError):
    """No index exists where one was expected."""


class IndexMismatchError(ReportSearchError):
    """The index on disk disagrees with its manifest, the model or the sources."""


class IndexDamagedError(IndexMismatchError):
    """A file of the index does not have the checksum its manifest recorded."""


class IndexWriteError(ReportSearchError):
    """The index cannot be written where asked without replacing something this tool did not make."""


class ModelError(ReportSearchError):
    """The embedding model cannot be built, found or loaded."""


class ListenError(ReportSearchError):
    """The server cannot listen on the address and port it was given."""


class ServiceLimitError(ReportSearchError):
    """The public service refuses a search for now: too many from one client, or every slot busy."""

    status = 503

    def __init__(self, message: str, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class RateLimitedError(ServiceLimitError):
    """One client sent more searches per minute than the rate limit allows."""

    status = 429


class BusyError(ServiceLimitError):
    """Every search slot is taken and the wait queue is full, or the wait timed out."""
