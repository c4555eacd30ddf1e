"""tap-skipcall: the Tap, its settings and the streams it offers."""

from __future__ import annotations

import json
import sys
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast

from singer_sdk import Tap
from singer_sdk.helpers.capabilities import CapabilitiesEnum, TapCapabilities

from tap_skipcall import logs
from tap_skipcall.accounts import (
    Account,
    AccountsFailed,
    accounts_in,
    accounts_state_problem,
    failure_of,
    run_accounts,
    starting_state,
)
from tap_skipcall.calls.state import (
    state_problem,
    unwrapped,
    without_progress_markers,
)
from tap_skipcall.client.base import api_base
from tap_skipcall.costs import SAMPLED, duration, first_sync
from tap_skipcall.errors import STOPPED, CommandLineError, StateError, sentence_of
from tap_skipcall.network.transport import Transport
from tap_skipcall.observe import Budget, RunObservation, RunRecorder
from tap_skipcall.output import RecordsHeldWriter
from tap_skipcall.privacy import Privacy, privacy_of
from tap_skipcall.run_context import RunContext
from tap_skipcall.sdk_private import exit_codes_on_signals, plain_sentences_first
from tap_skipcall.settings import (
    DEFAULT_API_URL,
    SETTINGS,
    config_notes,
    config_problems,
    secret_values,
    unknown_settings,
)
from tap_skipcall.streams import STREAM_TYPES
from tap_skipcall.streams.calls import CallsStream
from tap_skipcall.streams.sampling import take_sample

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    import click
    from singer_sdk.helpers.types import TapState

    from tap_skipcall.client.base import SkipcallStream


#: The values the SDK documents for ``--test`` (``disabled``: the option not given).
TEST_VALUES = ("all", "schema", "disabled")


@exit_codes_on_signals
@plain_sentences_first
class TapSkipcall(Tap):
    """Singer tap for the Skipcall Public API."""

    name = "tap-skipcall"
    logs.install(name)
    config_jsonschema = SETTINGS.to_dict()
    #: msgspec encodes Singer messages several times faster than the default writer; records
    #: are held and written together, every other message flushed (:mod:`tap_skipcall.output`).
    message_writer_class = RecordsHeldWriter
    #: The SDK's, and `test`: `--test` checks the key and estimates a first sync.
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        *Tap.capabilities,
        TapCapabilities.TEST,
    ]

    def __init__(
        self,
        *,
        run: RunContext | None = None,
        recorder: RunRecorder | None = None,
        **kwargs: Any,
    ) -> None:
        """The SDK's tap; ``run``, ``recorder``: what it shares with other accounts' taps."""
        #: With ``accounts``: this tap reads one of them (``run.account``), or coordinates
        #: them all (this tap, as the command line builds it). None: ``api_key`` alone.
        self.run_context = run
        #: What every layer tells of the run (requests, retries, waits, records, warnings):
        #: one per run, the accounts' taps sharing their coordinator's.
        self.recorder = recorder if recorder is not None else RunRecorder()
        #: The run as watched: its report and trace (None until a sync begins, and in the
        #: accounts' taps, whose coordinator watches the whole run).
        self.observation: RunObservation | None = None
        #: The accounts' run's state while it runs (what a signal writes).
        self._accounts_state: dict[str, Any] | None = None
        #: The accounts' taps of the run, for what each key's plan allowed.
        self._account_taps: list[TapSkipcall] = []
        super().__init__(**kwargs)

    @cached_property
    def accounts(self) -> list[Account] | None:
        """The accounts this tap coordinates (None: it reads one key, its own)."""
        return None if self.run_context is not None else accounts_in(dict(self.config))

    @cached_property
    def stream_context(self) -> RunContext:
        """What every stream of this tap is handed: its account, and the run's version."""
        if self.run_context is not None:
            return self.run_context
        accounts = self.accounts
        return RunContext(account=accounts[0].name) if accounts else RunContext()

    def config_problems(self) -> list[str]:
        """Plain sentences for bad settings; a warning for each unknown one."""
        known = SETTINGS.to_dict()
        type(self).append_builtin_config(known)  # the SDK's own: batch_config, stream_maps …
        for warning in unknown_settings(dict(self.config), set(known["properties"])):
            self.logger.warning("%s", warning)
        for note in config_notes(dict(self.config)):
            self.logger.info("%s", note)
        return config_problems(dict(self.config))

    @cached_property
    def transport(self) -> Transport:
        """The session and request budget every stream shares (the limit is per key)."""
        account = self.stream_context.account
        return Transport(
            self.config.get("max_requests_per_minute"),
            max_concurrent_requests=int(self.config["max_concurrent_requests"]),
            api_url=api_base(self.config.get("api_url") or DEFAULT_API_URL),
            max_answer_bytes=int(self.config["max_answer_megabytes"]) << 20,
            thread_name_prefix=f"{logs.ACCOUNT_THREAD}{account}:ahead" if account else "skipcall",
            recorder=self.recorder,
        )

    @override
    @property
    def state(self) -> TapState:
        """The tap's state; with ``accounts``, every account's, as the run last wrote it."""
        if self._accounts_state is not None:
            return cast("TapState", self._accounts_state)
        return super().state

    @override  # type: ignore[misc]  # final in the SDK's types: extended, not replaced, here
    def sync_all(self) -> None:
        """The SDK's sync, watched: a run report and trace however it ends.

        With ``accounts``, every account's, side by side: each is read by a tap of this
        class of its own (its key, its budget, its state entry), writing through one relay
        (:mod:`tap_skipcall.accounts`).
        """
        if self.run_context is not None:  # one account of a run its coordinator watches
            super().sync_all()
            return
        self.observation = observation = RunObservation(
            self.recorder,
            self.config.get("run_report_path"),
            secrets=secret_values(dict(self.config)),
        )
        observation.began_with(self.state)
        try:
            self.sync_accounts() if self.accounts else super().sync_all()
        except BaseException as error:
            sentence = sentence_of(error)
            told = STOPPED + sentence if sentence else f"{type(error).__name__}: {error}"
            outcome = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
            observation.finish(outcome, told, state=self.state, budgets=self.budgets())
            raise
        observation.finish("succeeded", None, state=self.state, budgets=self.budgets())

    def stopped_by(self, signal_name: str) -> None:
        """A signal ends the run (SIGINT, SIGTERM): its report says so."""
        if self.observation is not None:
            self.observation.finish(
                "interrupted",
                f"Stopped by {signal_name}.",
                state=self.state,
                budgets=self.budgets(),
            )

    def budgets(self) -> list[Budget]:
        """What each key sent this run, against what its plan allowed in the time."""
        seconds = time.time() - self.recorder.started_at
        taps = self._account_taps if self.accounts else [self]
        budgets = []
        for tap in taps:
            plan = tap.transport.budget.plan
            budgets.append(
                Budget(
                    account=tap.run_context.account if tap.run_context else None,
                    requests=tap.transport.session.sent,
                    limit=plan.limit if plan is not None else None,
                    window_seconds=plan.window_seconds if plan is not None else None,
                    seconds=seconds,
                )
            )
        return budgets

    def sync_accounts(self) -> None:
        """Every account's sync, side by side (see :meth:`sync_all`)."""
        accounts = self.accounts
        assert accounts
        catalog = self.input_catalog.to_dict() if self.input_catalog else None

        def make_tap(
            config: dict[str, Any], state: dict[str, Any], writer: Any, run: RunContext
        ) -> TapSkipcall:
            tap = type(self)(
                config=config,
                catalog=catalog,
                state=state,
                parse_env_config=False,
                message_writer=writer,
                run=run,
                recorder=self.recorder,
            )
            self._account_taps.append(tap)
            return tap

        def keep(state: dict[str, Any]) -> None:
            self._accounts_state = state

        run_accounts(
            accounts,
            dict(self.config),
            state=dict(self.state),
            out=self.message_writer,  # type: ignore[arg-type]
            make_tap=make_tap,
            logger=self.logger,
            on_state=keep,
        )

    @override
    def load_state(self, state: dict[str, Any]) -> None:
        """Refuse, before any request, a state this tap did not write.

        A whole STATE message saved as the state (the tap's last output line) is read as
        its ``value``.
        """
        state, note = unwrapped(state)
        if note is not None:
            self.logger.info("%s", note)
        streams = {str(stream.name) for stream in self.streams.values()}
        accounts = self.accounts
        if accounts:
            names = [account.name for account in accounts]
            problem = accounts_state_problem(state, names, streams)
            if problem:
                raise StateError(problem)
            state, notes = starting_state(state, names)
            for line in notes:
                self.logger.warning("%s", line)
            self._accounts_state = state  # the SDK's own keeps `bookmarks` only
            return
        problem = state_problem(state, streams)
        if problem:
            raise StateError(problem)
        super().load_state(without_progress_markers(state))

    @override
    def discover_streams(self) -> list[SkipcallStream]:
        """The streams this tap offers, each handed the shared transport."""
        return [
            stream_type(
                self, transport=self.transport, run=self.stream_context, privacy=self.privacy
            )
            for stream_type in STREAM_TYPES
        ]

    @cached_property
    def privacy(self) -> Privacy | None:
        """What personal data becomes before a record is written (None: no privacy setting)."""
        return privacy_of(dict(self.config))

    @override
    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """``--test``: whether the key can read calls, and what a first sync costs.

        The SDK's own connection test syncs a record of every stream and logs an ERROR for
        each full-table one it cuts short; this keeps the SDK's command line (its parsing
        of ``--config``, ``ENV``, ``--test=schema``) and replaces only what runs.
        """
        if value not in TEST_VALUES:
            msg = (
                f"`--test` takes no value (it checks the key and estimates a first sync) or "
                f"`--test=schema` (the schemas only), not {value!r}."
            )
            raise CommandLineError(msg)
        if value != "all":
            super().cb_test(ctx, param, value)
            return
        config = ctx.params.get("config")
        catalog = ctx.params.get("catalog")  # given before --test: click reads it first
        with logs.quiet(cls.name, "singer_sdk"):  # start-up lines say nothing a user needs here
            tap = cls(
                config=getattr(config, "config", None),
                catalog=json.load(catalog) if catalog is not None else None,
                parse_env_config=bool(getattr(config, "parse_env", False)),
                validate_config=True,
            )
        with logs.quiet(tap.metrics_logger.name):  # nor does the request's metric
            sentence = tap.check_connection()
        for line in sentence.splitlines():
            tap.logger.info("%s", line)
        ctx.exit()

    def check_connection(self) -> str:
        """Can the key read calls? With ``accounts``, every account's: a line each.

        An account that cannot is named, with why, in one sentence after the others
        were checked.
        """
        accounts = self.accounts
        if not accounts:
            return self.check_own_connection()
        catalog = self.input_catalog.to_dict() if self.input_catalog else None
        lines, failed = [], []
        for account in accounts:
            with logs.quiet(self.name, "singer_sdk"):
                tap = type(self)(
                    config=account.config(dict(self.config)),
                    catalog=catalog,
                    parse_env_config=False,
                    run=RunContext(account=account.name),
                )
            try:
                lines.append(f"{account.name}: {tap.check_connection()}")
            except Exception as error:  # one account's failure, whatever it is
                failed.append(f"{account.name}: {failure_of(error)}")
        if failed:
            for line in lines:
                self.logger.info("%s", line)
            msg = (
                f"{len(failed)} of {len(accounts)} accounts failed the connection test: "
                f"{'; '.join(failed)}."
            )
            raise AccountsFailed(msg)
        return "\n".join(lines)

    def check_own_connection(self) -> str:
        """Can this key read calls? The sentence to show if it can.

        It also says what a first sync of the selected streams will cost, from the calls the
        key can see, the plan the answer announces and, where a stream's cost depends on
        shares the API does not announce, a sample of the account
        (:mod:`tap_skipcall.streams.sampling`, :mod:`tap_skipcall.costs`).
        """
        calls = self.streams["calls"]
        assert isinstance(calls, CallsStream)
        visible = calls.calls_list.count_visible()
        count = "an unknown number of" if visible is None else f"{visible:,}"
        sentence = f"Connection test passed: the API key can read calls ({count} visible)"
        plan = self.transport.budget.plan
        if plan is not None:
            sentence += f" on a plan of {plan.limit:,} requests {plan.window_in_words}"
        if visible is None:
            return sentence + "."
        selected = {name for name, stream in self.streams.items() if stream.selected}
        page_size = int(self.config["page_size"])
        sample, sampled_with = None, ""
        if visible and selected & set(SAMPLED):
            before = self.transport.session.sent
            sample = take_sample(self.streams, selected, visible, page_size)  # type: ignore[arg-type]
            made = self.transport.session.sent - before
            sampled_with = f" (estimated from {sample.calls:,} calls: {made} requests)"
        estimate = first_sync(visible, selected, page_size, sample)
        needs = f"{'up to ' if estimate.at_most else 'about '}{estimate.requests:,} requests"
        sentence += f". A first sync of the selected streams needs {needs}"
        if plan is not None:
            sentence += f", {duration(estimate.minutes(plan.per_minute))} at the plan's rate"
        return sentence + sampled_with + "."

    @override
    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, with ``--test`` described as it behaves here."""
        command = super().get_singer_command()
        for param in command.params:
            if param.name == "test":
                param.help = (
                    "Check the key and estimate what a first sync of the selected streams "
                    "costs, from a sample of the account: one request, or a few dozen when "
                    "a selected stream's cost depends on shares the API does not announce "
                    "(--test=schema: write the schemas only)."
                )
        return command
