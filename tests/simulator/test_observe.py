"""Runs an operator can watch, against the simulator: the run report, JSON logs, and
OpenTelemetry (in memory, and over OTLP/HTTP to a receiver the test runs).

Every figure is checked against what the simulator served and what the tap wrote: the
report's requests against the simulator's request log, its records against the RECORD
messages, its retries against the faults injected; the key never appears anywhere.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import jsonschema
import pytest

from skipcall_simulator import Fault
from tap_skipcall.observe import telemetry
from tap_skipcall.observe.report import SCHEMA
from tests.helpers import catalog_selecting, run_tap, tap_config

if TYPE_CHECKING:
    from pathlib import Path
from typing import ClassVar

KEY = "sk_test_observe_0123456789"
#: The stream each simulator endpoint serves.
STREAM_OF = {
    "list_calls": "calls",
    "recording": "call_recordings",
    "transcription": "call_transcriptions",
    "get_contact": "contacts",
    "list_workspaces": "workspaces",
    "list_members": "workspace_members",
    "list_users": "users",
    "sequence_contacts": "sequence_contacts",
}
STREAMS = ["calls", "call_recordings", "contacts", "users", "workspaces", "workspace_members"]


def the_report(folder: Path) -> dict:
    """The one report in ``folder``, checked against the schema the package ships."""
    reports = sorted(folder.glob("*.json"))
    assert len(reports) == 1, reports
    text = reports[0].read_text()
    assert KEY not in text
    content = json.loads(text)
    jsonschema.validate(content, json.loads(SCHEMA.read_text()))
    return content


def by_stream(content: dict, field: str) -> dict[str, int]:
    return {s["stream"]: s[field] for s in content["streams"] if s[field]}


def tap_process(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tap_skipcall", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.getcwd(), **(env or {})},
        **kwargs,
    )


def test_the_report_counts_what_the_run_did_through_500s(make_simulator, tmp_path):
    sim = make_simulator(n_calls=400, api_key=KEY, rate_limit=1_000)
    sim.simulator.faults += [
        Fault(kind="status", status=500, endpoint="list_calls", skip=1, times=2),
        Fault(kind="status", status=503, endpoint="recording", skip=5, times=1),
        Fault(kind="drop", endpoint="list_users", times=1),
    ]
    config = tap_config(sim, run_report_path=str(tmp_path / "reports" / "run-{started_at}.json"))
    result = run_tap(config, select=STREAMS)
    content = the_report(tmp_path / "reports")

    assert content["outcome"] == "succeeded"
    assert content["error"] is None
    # records: exactly the RECORD messages of each stream
    written = {stream: len(rows) for stream, rows in result.records_by_stream.items()}
    assert by_stream(content, "records") == written
    assert content["totals"]["records"] == sum(written.values())
    # requests: exactly what the simulator served, per stream and in all
    served: Counter[str] = Counter()
    for endpoint, _query, _status in sim.simulator.stats.log:
        served[STREAM_OF[endpoint]] += 1
    assert by_stream(content, "requests") == dict(served)
    assert content["totals"]["requests"] == sim.simulator.stats.requests
    assert content["keys"][0]["requests"] == sim.simulator.stats.requests
    # retries: one per fault injected, on the stream that met it
    assert by_stream(content, "retries") == {"calls": 2, "call_recordings": 1, "users": 1}
    assert content["totals"]["retries"] == 4
    # the bookmark after is the STATE's; before, none
    calls = next(s for s in content["streams"] if s["stream"] == "calls")
    assert calls["bookmark"] == {
        "before": None,
        "after": result.state["bookmarks"]["calls"]["replication_key_value"],
    }
    # the plan the API announced, and how much of it the run used
    assert content["keys"][0]["plan"] == {"limit": 1_000, "window_seconds": 60.0}
    assert 0 < content["totals"]["budget_used"] < 1
    # each retry warning, once
    assert any("HTTP 500" in w for w in content["warnings"]), content["warnings"]

    # the next run says where each bookmark stood before it
    sim.simulator.data.update_calls(3)
    again = run_tap(config, state=result.state, select=["calls"])
    reports = sorted((tmp_path / "reports").glob("*.json"))
    second = json.loads(reports[-1].read_text()) if len(reports) == 2 else None
    if second is None:  # both runs began in the same second: one file, the second run's
        second = json.loads(reports[0].read_text())
    calls = next(s for s in second["streams"] if s["stream"] == "calls")
    assert (
        calls["bookmark"]["before"] == result.state["bookmarks"]["calls"]["replication_key_value"]
    )
    assert calls["bookmark"]["after"] == again.state["bookmarks"]["calls"]["replication_key_value"]
    assert calls["records"] == len(again.records()) == 3


def test_rate_limit_waits_are_counted_where_they_happened(make_simulator, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="tap-skipcall")
    sim = make_simulator(n_calls=300, api_key=KEY, rate_limit=3, window_seconds=1.0)
    config = tap_config(
        sim, run_report_path=str(tmp_path / "r.json"), max_concurrent_requests=1, page_size=30
    )
    result = run_tap(config, select=["calls"])
    content = the_report(tmp_path)
    pauses = [float(s) for s in re.findall(r"Rate limit: pausing ([0-9.]+) s", caplog.text)]
    assert pauses
    calls = next(s for s in content["streams"] if s["stream"] == "calls")
    assert calls["rate_limit_waits"] == content["totals"]["rate_limit_waits"] == len(pauses)
    assert calls["wait_seconds"] == pytest.approx(sum(pauses), abs=0.05 * len(pauses))
    assert calls["records"] == len(result.records()) == 300
    assert content["keys"][0]["plan"]["limit"] == 3


@pytest.mark.slow  # a subprocess
def test_a_wrong_key_fails_with_the_printed_sentence_as_error(make_simulator, tmp_path):
    sim = make_simulator(n_calls=50, api_key=KEY)
    wrong = "sk_test_wrong_key_987654"
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {**tap_config(sim), "api_key": wrong, "run_report_path": str(tmp_path / "r.json")}
        )
    )
    completed = tap_process("--config", str(config))
    assert completed.returncode == 1
    last = completed.stderr.strip().splitlines()[-1]
    content = json.loads((tmp_path / "r.json").read_text())
    assert content["outcome"] == "failed"
    assert content["error"].startswith("tap-skipcall stopped: Skipcall rejected the API key")
    assert last.endswith(content["error"])  # the very sentence printed last
    assert wrong not in (tmp_path / "r.json").read_text()
    jsonschema.validate(content, json.loads(SCHEMA.read_text()))


@pytest.mark.slow  # a subprocess
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_run_interrupted_with_its_state_in_the_report(
    make_simulator, tmp_path, sig
):
    sim = make_simulator(n_calls=2_000, latency=0.02, api_key=KEY)
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            tap_config(sim, max_concurrent_requests=1, run_report_path=str(tmp_path / "r.json"))
        )
    )
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting(tap_config(sim), ["calls"])))
    process = subprocess.Popen(
        [sys.executable, "-m", "tap_skipcall", "--config", str(config), "--catalog", str(catalog)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert process.stdout is not None
    lines, states = [], 0
    for line in process.stdout:
        lines.append(line)
        states += line.startswith('{"type":"STATE"')
        if states == 4:
            process.send_signal(sig)
            break
    rest, errors = process.communicate(timeout=60)
    assert process.returncode == 128 + sig, errors[-2000:]
    messages = [json.loads(line) for line in ("".join(lines) + rest).splitlines() if line]
    content = json.loads((tmp_path / "r.json").read_text())
    jsonschema.validate(content, json.loads(SCHEMA.read_text()))
    assert content["outcome"] == "interrupted"
    assert content["error"] == f"Stopped by {signal.Signals(sig).name}."
    calls = next(s for s in content["streams"] if s["stream"] == "calls")
    # a signal while records are written may write a few again before its STATE (a target
    # upserts them): the report counts each once
    records = {m["record"]["id"] for m in messages if m["type"] == "RECORD"}
    assert 0 < calls["records"] == len(records) < 2_000
    last_state = [m for m in messages if m["type"] == "STATE"][-1]["value"]
    assert calls["bookmark"]["after"] == last_state["bookmarks"]["calls"].get(
        "replication_key_value"
    )
    # a request in flight when the signal came is counted by the tap as it was sent; the
    # simulator may not have logged it yet
    assert content["totals"]["requests"] - sim.simulator.stats.requests in (0, 1)


def test_with_accounts_the_report_is_per_account_and_names_the_one_that_failed(
    make_simulator, tmp_path
):
    sims = {
        "fr": make_simulator(n_calls=120, seed=3, api_key="sk_test_fr_observe"),
        "de": make_simulator(n_calls=80, seed=4, api_key="sk_test_de_observe"),
    }
    config = {
        "accounts": [
            {"name": name, "api_key": sim.simulator.config.api_key, "api_url": sim.url}
            for name, sim in sims.items()
        ],
        "run_report_path": str(tmp_path / "r.json"),
    }
    first = run_tap(config, select=["calls", "users"])
    content = json.loads((tmp_path / "r.json").read_text())
    jsonschema.validate(content, json.loads(SCHEMA.read_text()))
    records = {(s["account"], s["stream"]): s["records"] for s in content["streams"]}
    for name in sims:
        assert records[(name, "calls")] == sum(
            1 for r in first.records() if r["skipcall_account"] == name
        )
    keys = {k["account"]: k["requests"] for k in content["keys"]}
    assert keys == {name: sim.simulator.stats.requests for name, sim in sims.items()}
    requests = Counter()
    for stream in content["streams"]:
        requests[stream["account"]] += stream["requests"]
    assert dict(requests) == keys

    sims["de"].simulator.config.api_key = "sk_test_revoked"
    run_tap(config, state=first.state, select=["calls"], expect_error=True)
    text = (tmp_path / "r.json").read_text()
    content = json.loads(text)
    assert content["outcome"] == "failed"
    assert content["error"].startswith(
        "tap-skipcall stopped: 1 of 2 accounts failed, the others finished and their state is "
        "saved: de: Skipcall rejected the API key"
    )
    for secret in ("sk_test_fr_observe", "sk_test_de_observe"):
        assert secret not in text
    fr = next(s for s in content["streams"] if s["account"] == "fr" and s["stream"] == "calls")
    assert fr["bookmark"]["before"] == fr["bookmark"]["after"] is not None  # nothing new


# -- JSON logs ---------------------------------------------------------------------------


def json_lines(stderr: str) -> list[dict]:
    """Every line of stderr, each parsed as one JSON object (a line that is not fails)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a stderr line is not JSON: {line[:200]!r}")
    for entry in parsed:
        assert {"level", "ts", "logger_name", "message"} <= entry.keys(), entry
    return parsed


@pytest.mark.slow  # subprocesses
def test_every_stderr_line_of_a_json_logged_sync_is_json(make_simulator, tmp_path):
    sim = make_simulator(n_calls=600, latency=0.002, api_key=KEY)
    sim.simulator.faults.append(Fault(kind="status", status=500, endpoint="list_calls", skip=1))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    completed = tap_process("--config", str(config), env={"TAP_SKIPCALL_LOG_FORMAT": "json"})
    assert completed.returncode == 0, completed.stderr[-2000:]
    entries = json_lines(completed.stderr)
    metrics = [e for e in entries if e["message"] == "METRIC"]
    assert metrics
    assert all(isinstance(e["ts"], float) and e["metric_info"] for e in metrics)
    assert {e["logger_name"] for e in metrics} == {"singer_sdk.metrics"}
    closing = [e for e in entries if e["extra"].get("done")]
    assert [e["extra"]["stream"] for e in closing] == ["calls"]
    figures = closing[0]["extra"]
    calls = sum(
        1
        for line in completed.stdout.splitlines()
        if '"stream":"calls"' in line and '"RECORD"' in line
    )
    assert figures["records"] == calls == 600
    assert figures["requests"] > 0
    assert "eta_seconds" in figures
    assert str(figures["records"]) in closing[0]["message"]  # the sentence says the same
    warnings = [e for e in entries if e["level"] == "warning"]
    assert any("HTTP 500" in e["message"] for e in warnings)
    assert KEY not in completed.stderr
    # the level stays the user's: TAP_SKIPCALL_LOGLEVEL=DEBUG shows the per-parent lines
    completed = tap_process(
        "--config",
        str(config),
        env={"TAP_SKIPCALL_LOG_FORMAT": "json", "TAP_SKIPCALL_LOGLEVEL": "DEBUG"},
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert any(e["level"] == "debug" for e in json_lines(completed.stderr))


@pytest.mark.slow  # subprocesses
def test_json_logs_hold_for_failures_and_the_setting(make_simulator, tmp_path):
    sim = make_simulator(n_calls=20, api_key=KEY)
    config = tmp_path / "config.json"
    # the setting, not the variable; a wrong key: the last line is the stop, as JSON
    config.write_text(json.dumps({**tap_config(sim), "api_key": "sk_bad", "log_format": "json"}))
    completed = tap_process("--config", str(config))
    assert completed.returncode == 1
    last = json_lines(completed.stderr)[-1]
    assert last["level"] == "error"
    assert last["message"].startswith("tap-skipcall stopped: Skipcall rejected the API key")
    # a problem found before the SDK starts (a missing state file) is JSON too
    completed = tap_process("--config", str(config), "--state", str(tmp_path / "missing.json"))
    assert completed.returncode == 1
    [only] = json_lines(completed.stderr)
    assert "does not exist" in only["message"]
    # the default stays text
    config.write_text(json.dumps({**tap_config(sim), "api_key": "sk_bad"}))
    completed = tap_process("--config", str(config))
    assert re.search(r"\| ERROR +\| tap-skipcall +\| tap-skipcall stopped:", completed.stderr)
    assert not completed.stderr.lstrip().startswith("{")


# -- OpenTelemetry ------------------------------------------------------------------------


@pytest.fixture
def in_memory_telemetry(monkeypatch):
    """The run's telemetry with OpenTelemetry SDK's in-memory exporters."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    made = telemetry.Telemetry(tracer_provider, meter_provider)
    monkeypatch.setattr(telemetry, "from_environment", lambda: made)
    return spans, reader


def metric_sums(reader) -> dict[str, float]:
    sums: dict[str, float] = {}
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                sums[metric.name] = sum(p.value for p in metric.data.data_points)
    return sums


def test_a_trace_has_the_run_its_streams_and_every_request(make_simulator, in_memory_telemetry):
    spans, reader = in_memory_telemetry
    sim = make_simulator(n_calls=300, api_key=KEY)
    sim.simulator.faults.append(Fault(kind="status", status=500, endpoint="recording", skip=3))
    result = run_tap(tap_config(sim), select=STREAMS)
    finished = spans.get_finished_spans()
    [run] = [s for s in finished if s.name == "tap-skipcall run"]
    assert run.attributes["skipcall.outcome"] == "succeeded"
    streams = {s.name: s for s in finished if s.name.startswith("stream ")}
    # children (recordings, contacts, members) sit in their parent's span
    assert set(streams) == {"stream calls", "stream users", "stream workspaces"}
    assert all(s.parent.span_id == run.context.span_id for s in streams.values())
    requests = [s for s in finished if s.name == "GET"]
    assert len(requests) == sim.simulator.stats.requests
    stream_ids = {s.context.span_id for s in streams.values()}
    assert all(s.parent.span_id in stream_ids for s in requests)
    statuses = Counter(s.attributes.get("http.response.status_code") for s in requests)
    assert statuses == Counter(sim.simulator.stats.by_status)
    [failed] = [s for s in requests if s.attributes.get("http.response.status_code") == 500]
    assert not failed.status.is_ok
    # the retry: the same request again, said so
    [retried] = [s for s in requests if s.attributes["skipcall.retry"] > 0]
    assert retried.attributes["url.full"] == failed.attributes["url.full"]
    assert retried.attributes["skipcall.stream"] == "call_recordings"
    recordings = [s for s in requests if s.attributes["skipcall.stream"] == "call_recordings"]
    assert len(recordings) == sim.simulator.stats.by_endpoint["recording"]
    # metrics
    sums = metric_sums(reader)
    assert sums["skipcall.requests"] == sim.simulator.stats.requests
    assert sums["skipcall.records"] == sum(len(r) for r in result.records_by_stream.values())
    # the key nowhere
    for span in finished:
        said = json.dumps(
            [span.name, dict(span.attributes or {}), span.status.description], default=str
        )
        assert KEY not in said


class Receiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver: keeps every body posted, by path."""

    received: ClassVar[dict[str, list[bytes]]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.setdefault(self.path, []).append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args) -> None:
        pass


@pytest.mark.slow  # a subprocess
def test_the_tap_exports_its_trace_and_metrics_over_otlp_http(make_simulator, tmp_path):
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    class Kept(Receiver):
        received: ClassVar[dict[str, list[bytes]]] = {}

    server = ThreadingHTTPServer(("127.0.0.1", 0), Kept)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sim = make_simulator(n_calls=150, api_key=KEY)
        config = tmp_path / "config.json"
        config.write_text(json.dumps(tap_config(sim)))
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        completed = tap_process(
            "--config", str(config), env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
        )
    finally:
        server.shutdown()
    assert completed.returncode == 0, completed.stderr[-2000:]
    names: Counter[str] = Counter()
    for body in Kept.received.get("/v1/traces", []):
        assert KEY.encode() not in body
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            assert service["service.name"] == "tap-skipcall"
            for scope in resource.scope_spans:
                names.update(span.name for span in scope.spans)
    assert names["tap-skipcall run"] == 1
    assert names["GET"] == sim.simulator.stats.requests
    assert names["stream calls"] == 1
    metrics = set()
    for body in Kept.received.get("/v1/metrics", []):
        request = ExportMetricsServiceRequest.FromString(body)
        for resource in request.resource_metrics:
            for scope in resource.scope_metrics:
                metrics.update(m.name for m in scope.metrics)
    assert {"skipcall.requests", "skipcall.records"} <= metrics


#: Runs the tap's command line, then says whether OpenTelemetry was imported.
IMPORTS_PROBE = """
import atexit, sys
{block}
atexit.register(lambda: print(
    "OTEL-IMPORTED", any(m.split(".")[0] == "opentelemetry" for m in sys.modules if sys.modules[m]),
    file=sys.stderr,
))
sys.argv = ["tap-skipcall", "--config", {config!r}]
from tap_skipcall.cli import main
main()
"""


@pytest.mark.slow  # subprocesses
def test_without_the_variable_or_the_extra_nothing_of_opentelemetry_is_imported(
    make_simulator, tmp_path
):
    sim = make_simulator(n_calls=50, api_key=KEY)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}

    def probe(block: str = "", **more: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", IMPORTS_PROBE.format(block=block, config=str(config))],
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, "PYTHONPATH": os.getcwd(), **more},
        )

    plain = probe()
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert "OTEL-IMPORTED False" in plain.stderr
    # the variable set, the extra missing: one warning, the run as usual
    missing = probe(
        'sys.modules["opentelemetry"] = None',
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9",
    )
    assert missing.returncode == 0, missing.stderr[-2000:]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed" in (
        missing.stderr
    )
    assert missing.stdout.count('"type":"RECORD"') == plain.stdout.count('"type":"RECORD"')
