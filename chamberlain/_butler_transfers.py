"""Export and import methods of the `Butler` (a mixin; see ``chamberlain/transfers``)."""

from __future__ import annotations


class ButlerTransfers:
    """Export/import methods shared by every `Butler` (filled in by ``chamberlain.transfers``)."""
