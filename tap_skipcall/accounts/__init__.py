"""Several Skipcall organisations in one pipeline: the ``accounts`` setting.

The door: :func:`accounts_in` reads the setting, :func:`run_accounts` reads every account
side by side (each with a tap of its own) and activates what all of them read whole, and
:func:`starting_state` / :func:`accounts_state_problem` read the run's state. The settings'
sentences are in :mod:`.settings`, the state's shape in :mod:`.state`, the one writer every
account writes through in :mod:`.relay`, the run in :mod:`.run`.
"""

from tap_skipcall.accounts.run import AccountsFailed, failure_of, run_accounts
from tap_skipcall.accounts.settings import Account, accounts_in
from tap_skipcall.accounts.state import accounts_state_problem, starting_state

__all__ = [
    "Account",
    "AccountsFailed",
    "accounts_in",
    "accounts_state_problem",
    "failure_of",
    "run_accounts",
    "starting_state",
]
