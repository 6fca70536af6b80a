"""Registry queries: the `where` expression language, planning and results."""
