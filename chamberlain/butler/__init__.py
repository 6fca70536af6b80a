"""The `Butler`: the repository facade joining the registry and the datastore.

`Butler` (``_butler.py``) is one class whose methods create and open
repositories, put, get, ingest, query and remove datasets, and export and
import them. Beside it: `DatasetExistence` and `DeferredDatasetHandle`
(what `Butler.exists` and `Butler.get_deferred` return), `DataIdRewriter`
(friendly data IDs), `read_file_table` (the ``ingest-files`` table), and
`ButlerUsageError` (defined in `chamberlain.errors`).
"""

from chamberlain.datastore import FileDataset
from chamberlain.errors import ButlerUsageError
from chamberlain.repository import DATASTORE_CONFIG_NAME

from ._butler import Butler
from ._data_ids import DataIdRewriter
from ._file_table import FILE_COLUMN, read_file_table
from ._handles import DatasetExistence, DeferredDatasetHandle

__all__ = [
    "DATASTORE_CONFIG_NAME",
    "FILE_COLUMN",
    "Butler",
    "ButlerUsageError",
    "DataIdRewriter",
    "DatasetExistence",
    "DeferredDatasetHandle",
    "FileDataset",
    "read_file_table",
]
