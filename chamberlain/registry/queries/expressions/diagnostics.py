"""Error messages that point at the offending part of a `where` expression.

Every error about an expression has the same shape: one line saying what is
wrong (with the position), then the expression line, then a marker line::

    Syntax error at position 15: unexpected 'AND'; expected a value
      visit = 12 AND AND detector = 3
                     ^^^

``^`` marks a token, ``~`` a longer span (a whole function call, say). The
query compiler reuses `format_error` and `error_at` for its own messages.
"""

from __future__ import annotations

from chamberlain.errors import InvalidQueryError

__all__ = ["describe_position", "error_at", "format_error"]

_INDENT = "  "


def describe_position(text: str, start: int) -> str:
    """Describe an offset for a message: ``"position 15"``, plus the line for multi-line text.

    Parameters
    ----------
    text
        The whole expression.
    start
        0-based character offset into ``text``.
    """
    if "\n" not in text:
        return f"position {start}"
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1)
    return f"position {start} (line {line}, column {column})"


def format_error(text: str, start: int, end: int, message: str, *, marker: str | None = None) -> str:
    """Format an error message with the expression and a marker under ``text[start:end]``.

    Parameters
    ----------
    text
        The whole expression the user wrote.
    start, end
        0-based offsets of the offending part (``end`` exclusive). An empty span
        (``start == end``, e.g. at the end of the input) gets a single marker.
    message
        The first line: what is wrong. By convention it names the position
        (see `describe_position`) and the offending text.
    marker
        Character to repeat under the span; by default ``^`` for spans of up to
        one word and ``~`` for longer spans containing spaces or brackets.

    Returns
    -------
    str
        ``message``, then the expression line (only the line containing
        ``start`` for multi-line text), then the marker line. Tabs in the
        expression are kept in the marker line's indentation so columns line up;
        other control characters in the expression line are shown as ``?``.
    """
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end == -1:
        line_end = len(text)
    line = text[line_start:line_end]
    span_end = min(end, line_end)
    width = max(1, span_end - start)
    if marker is None:
        span = text[start:span_end]
        marker = "~" if any(c in span for c in " ()\t,") else "^"
    padding = "".join("\t" if c == "\t" else " " for c in text[line_start:start])
    # Control characters (a NUL, an escape sequence) are shown as '?': one column each, inert.
    line = "".join("?" if (ord(c) < 32 and c != "\t") or ord(c) == 127 else c for c in line)
    return f"{message}\n{_INDENT}{line}\n{_INDENT}{padding}{marker * width}"


def error_at(
    text: str, start: int, end: int, message: str, *, marker: str | None = None
) -> InvalidQueryError:
    """Build (not raise) an `InvalidQueryError` whose message comes from `format_error`.

    Parameters are those of `format_error`.
    """
    return InvalidQueryError(format_error(text, start, end, message, marker=marker))
