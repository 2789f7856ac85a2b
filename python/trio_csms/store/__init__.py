"""Persistent state: the `Store` contract, its records, and the SQLite implementation.

`open_store(url)` picks the implementation from the configured URL; the returned store must
be opened (`await store.open()`) before use and closed (`await store.close()`) after.
"""

from .base import ConnectorRecord as ConnectorRecord
from .base import IdTokenRecord as IdTokenRecord
from .base import JsonObject as JsonObject
from .base import MeterValueRecord as MeterValueRecord
from .base import NotificationRecord as NotificationRecord
from .base import RequestRecord as RequestRecord
from .base import StationChanges as StationChanges
from .base import StationRecord as StationRecord
from .base import Store as Store
from .base import StoreStatistics as StoreStatistics
from .base import TransactionEventRecord as TransactionEventRecord
from .base import TransactionRecord as TransactionRecord
from .base import VariableRecord as VariableRecord
from .sqlite import SqliteStore as SqliteStore

_SQLITE = "sqlite://"
_SQLITE_FILE = "sqlite:///"
_SQLITE_MEMORY = "sqlite://:memory:"


def open_store(url: str) -> Store:
    """The store a URL names, not yet opened.

    Args:
        url: `sqlite:///path/to.db` (relative to the working directory; `sqlite:////abs.db`
            for an absolute path), or `sqlite://:memory:` for a private database that is
            deleted on close (tests, demos).

    Raises:
        ValueError: the URL names no supported store; the message says what is accepted.
    """
    if url == _SQLITE_MEMORY:
        return SqliteStore(":memory:")
    if url.startswith(_SQLITE_FILE) and len(url) > len(_SQLITE_FILE):
        return SqliteStore(url.removeprefix(_SQLITE_FILE))
    scheme = url.partition("://")[0]
    if scheme in ("postgresql", "postgres"):
        raise ValueError(f"{scheme}:// is not supported yet; use sqlite:///path/to.db")
    if url.startswith(_SQLITE):
        raise ValueError(
            f"invalid SQLite store URL {url!r}: use sqlite:///path/to.db or sqlite://:memory:"
        )
    raise ValueError(
        f"unsupported store URL {url!r}: use sqlite:///path/to.db or sqlite://:memory:"
    )
