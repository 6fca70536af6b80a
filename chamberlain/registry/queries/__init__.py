"""Registry queries: the `where` expression language, planning and results."""

from .api import QueryOptions

__all__ = ["QueryOptions"]
