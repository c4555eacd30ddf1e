"""Data that changes while a client pages: rules that fire after the N-th page of calls."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class MutationRule:
    """Change data after the N-th list-calls page is served (before the next request)."""

    after_page: int
    update: int = 0
    create: int = 0
    delete: int = 0
    #: "served": touch calls the client has already been sent; "unserved": only those it
    #: has not; "any": anywhere.
    among: str = "any"
    done: bool = False
