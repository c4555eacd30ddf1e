"""OpenTelemetry, optional: a trace of the run and metrics, when asked for and installed.

With the extra ``tap-skipcall[otel]`` installed and ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, the run exports over OTLP/HTTP: a span for the
run, one per stream's sync, one per HTTP request (method, URL, status, the stream, the
account, the retry), and the counters ``skipcall.requests``, ``skipcall.records``,
``skipcall.rate_limit.waits`` and ``skipcall.rate_limit.wait_seconds``. Without either,
nothing of OpenTelemetry is imported. The API key is never an attribute: it travels in a
header, and no header is recorded.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

from tap_skipcall import __version__
from tap_skipcall.threads import threads_leave_signals

if TYPE_CHECKING:
    from tap_skipcall.observe.recorder import Scope

logger = logging.getLogger("tap-skipcall")
ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
SERVICE = "tap-skipcall"


def from_environment() -> Telemetry | None:
    """The run's telemetry, when the environment asks for it and the extra is installed."""
    if not any(os.environ.get(name) for name in ENDPOINTS):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        logger.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: no trace "
            "or metrics are exported (pip install 'tap-skipcall[otel]')."
        )
        return None
    resource = Resource.create({"service.name": SERVICE, "service.version": __version__})
    with threads_leave_signals():  # the exporters' threads
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        reader = PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=60_000)
        meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    return Telemetry(tracer_provider, meter_provider)


class Telemetry:
    """Spans and counters of one run (a :class:`~tap_skipcall.observe.recorder.Watcher`)."""

    def __init__(self, tracer_provider: Any, meter_provider: Any) -> None:
        from opentelemetry import trace

        self._trace = trace
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.tracer = tracer_provider.get_tracer(SERVICE, __version__)
        meter = meter_provider.get_meter(SERVICE, __version__)
        self._requests = meter.create_counter("skipcall.requests", unit="{request}")
        self._records = meter.create_counter("skipcall.records", unit="{record}")
        self._waits = meter.create_counter("skipcall.rate_limit.waits", unit="{wait}")
        self._wait_seconds = meter.create_counter("skipcall.rate_limit.wait_seconds", unit="s")
        self.run_span: Any = None

    def _parent(self, handle: Any) -> Any:
        span = handle if handle is not None else self.run_span
        return self._trace.set_span_in_context(span) if span is not None else None

    def run_began(self) -> None:
        """The run's span begins."""
        self.run_span = self.tracer.start_span("tap-skipcall run")

    def run_ended(self, outcome: str, error: str | None) -> None:
        """The run's span ends, with its outcome; everything is exported."""
        if self.run_span is not None:
            self.run_span.set_attribute("skipcall.outcome", outcome)
            if error:
                from opentelemetry.trace import Status, StatusCode

                self.run_span.set_status(Status(StatusCode.ERROR, error))
            self.run_span.end()
        self.tracer_provider.force_flush()
        self.meter_provider.force_flush()

    def shutdown(self) -> None:
        """Stop the exporters (at the end of the process)."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()

    def stream_began(self, stream: str, account: str | None) -> Any:
        """A span for a stream's sync."""
        attributes: dict[str, Any] = {"skipcall.stream": stream}
        if account:
            attributes["skipcall.account"] = account
        return self.tracer.start_span(
            f"stream {stream}", context=self._parent(None), attributes=attributes
        )

    def stream_ended(self, handle: Any, records: int) -> None:
        """That span ends."""
        handle.set_attribute("skipcall.records", records)
        handle.end()

    def request(
        self,
        method: str,
        url: str,
        status: int | None,
        seconds: float,
        scope: Scope | None,
        retry: int,
    ) -> None:
        """A span for one HTTP request, from when it was sent to its answer."""
        end = time.time_ns()
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "url.full": url,
            "skipcall.retry": retry,
        }
        if status is not None:
            attributes["http.response.status_code"] = status
        if scope is not None:
            attributes["skipcall.stream"] = scope.stream
            if scope.account:
                attributes["skipcall.account"] = scope.account
        span = self.tracer.start_span(
            method,
            context=self._parent(scope.handle if scope else None),
            attributes=attributes,
            start_time=end - int(seconds * 1e9),
            kind=self._trace.SpanKind.CLIENT,
        )
        if status is None or status >= 400:
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, f"HTTP {status or 'no answer'}"))
        span.end(end_time=end)
        labels = {
            "skipcall.stream": scope.stream if scope else "",
            "http.response.status_code": status or 0,
        }
        self._requests.add(1, labels)

    def waited(self, seconds: float, scope: Scope | None) -> None:
        """A rate-limit pause."""
        labels = {"skipcall.stream": scope.stream if scope else ""}
        self._waits.add(1, labels)
        self._wait_seconds.add(seconds, labels)

    def records(self, stream: str, account: str | None, count: int) -> None:
        """Records written."""
        self._records.add(count, {"skipcall.stream": stream, "skipcall.account": account or ""})
