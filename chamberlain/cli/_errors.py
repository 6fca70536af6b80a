"""How the command line reports errors: one line on standard error, exit status 1.

Errors Chamberlain raises (`ChamberlainError`) are printed as
``error: <message>``; any other exception as ``error: <Type>: <message>``.
Multi-line messages (such as a ``where`` expression with a marker under the
fault) are joined into one line. ``chamberlain --debug`` re-raises instead,
so Python prints the traceback. Click's own usage errors keep click's
format and exit status 2.
"""

from __future__ import annotations

from chamberlain.errors import ChamberlainError

__all__ = ["EXIT_FAILURE", "error_line"]

EXIT_FAILURE = 1


def error_line(err: BaseException) -> str:
    """The single line printed for an exception, starting with ``error:``.

    Parameters
    ----------
    err
        The exception that ended the command.
    """
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    message = " ".join(" ".join(lines).split())
    if not isinstance(err, ChamberlainError):
        message = f"{type(err).__name__}: {message}" if message else type(err).__name__
    return f"error: {message or type(err).__name__}"
