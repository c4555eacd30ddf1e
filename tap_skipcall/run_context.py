"""What a tap reading one of several organisations shares with the others in the run.

With ``accounts``, each organisation is read by a tap of its own (:mod:`tap_skipcall.accounts`)
and every stream of it is handed this value: the account's name, which every record carries;
the run's one table version, which every complete read of every account uses, so that one
``ACTIVATE_VERSION`` per table can follow them all; and whether calls are read whole this
run for deletions, decided for all accounts together. With ``api_key`` alone it is empty and
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunContext:
    """The account's name, the run's table version, and the reconciliation decision.

    ``account``: the name every record carries in ``skipcall_account`` (None: ``api_key``
    alone, no such column). ``version``: the table version of every complete read (None:
    each read takes the time it began). ``reconcile``: whether calls are read whole for
    deletions (None: the calls state decides alone, and the run writes its own
    ``ACTIVATE_VERSION`` and moves its own clock; True or False: decided for every account,
    the activation and the clock being the accounts' run's).
    """

    account: str | None = None
    version: int | None = None
    reconcile: bool | None = None

    @property
    def deferred(self) -> bool:
        """Whether activations and the reconciliation clock are the accounts' run's."""
        return self.reconcile is not None
