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
#: Lines longer than this are shown from `_CONTEXT` characters before the fault to as many after.
_LONG_LINE = 160
_CONTEXT = 60


def describe_position(text: str, start: int) -> str:
    """Describe an offset for a message: ``"position 15"``, plus the line for multi-line text.

    Parameters
    ----------
    text
        The whole expression.
    start
        0-based character offset into ``text``.

    Returns
    -------
    str
        ``"position N"``, followed by ``" (line L, column C)"`` when ``text``
        has several lines.
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
        A line longer than 160 characters is cut to 60 characters either side
        of the fault (and the marker to 60), with ``...`` where text was left out.
    """
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end == -1:
        line_end = len(text)
    span_end = min(end, line_end)
    if marker is None:
        span = text[start:span_end]
        marker = "~" if any(c in span for c in " ()\t,") else "^"
    # A long line (a machine-made chain of thousands of terms) is shown around the fault only.
    head = tail = ""
    if line_end - line_start > _LONG_LINE:
        window_start = max(line_start, start - _CONTEXT)
        span_end = min(span_end, start + _CONTEXT)
        window_end = min(line_end, span_end + _CONTEXT)
        head = "..." if window_start > line_start else ""
        tail = "..." if window_end < line_end else ""
        line_start, line_end = window_start, window_end
    width = max(1, span_end - start)
    line = text[line_start:line_end]
    padding = " " * len(head) + "".join("\t" if c == "\t" else " " for c in text[line_start:start])
    # Control characters (a NUL, an escape sequence) are shown as '?': one column each, inert.
    line = "".join("?" if (ord(c) < 32 and c != "\t") or ord(c) == 127 else c for c in line)
    return f"{message}\n{_INDENT}{head}{line}{tail}\n{_INDENT}{padding}{marker * width}"


def error_at(
    text: str, start: int, end: int, message: str, *, marker: str | None = None
) -> InvalidQueryError:
    """Build (not raise) an `InvalidQueryError` whose message comes from `format_error`.

    Parameters
    ----------
    text, start, end, message, marker
        As for `format_error`.

    Returns
    -------
    InvalidQueryError
        The exception, for the caller to raise.
    """
    return InvalidQueryError(format_error(text, start, end, message, marker=marker))
