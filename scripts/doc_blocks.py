"""Blocks of the docs that a script writes, so that quoted figures cannot go stale by hand.

A block runs from ``<!-- NAME: written by ... -->`` to ``<!-- end of NAME -->``.

    from doc_blocks import replace_block
    replace_block(Path("docs/measurements.md"), "fault suite", table_text)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def block_pattern(name: str) -> re.Pattern[str]:
    """The block called ``name``: its opening marker line, its body and its closing marker."""
    return re.compile(
        rf"(<!-- {re.escape(name)}: written by [^>]*-->\n)(.*?)(<!-- end of {re.escape(name)} -->)",
        re.DOTALL,
    )


def with_block(text: str, name: str, body: str) -> str:
    """``text`` with the block ``name`` holding ``body`` (the block must exist)."""
    pattern = block_pattern(name)
    if not pattern.search(text):
        msg = f"no block {name!r} (markers <!-- {name}: written by … --> … <!-- end of {name} -->)"
        raise ValueError(msg)
    return pattern.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(3), text, count=1)


def replace_block(path: Path, name: str, body: str) -> None:
    """Rewrite the block ``name`` of the file at ``path``."""
    path.write_text(with_block(path.read_text(), name, body))
