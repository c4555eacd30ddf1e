"""The published wheel: the tap and its schemas, nothing else, and it runs on its own."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ALL_STREAMS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("tap_skipcall-*.whl"))


def test_wheel_holds_the_tap_and_schemas_but_not_the_simulator_or_tests(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "tap_skipcall/tap.py" in names
    assert "tap_skipcall/schemas/calls.json" in names
    schemas = {n for n in names if n.startswith("tap_skipcall/schemas/")}
    expected = {f"tap_skipcall/schemas/{name}.json" for name in ALL_STREAMS}
    assert schemas == expected | {"tap_skipcall/schemas/__init__.py"}
    assert not [n for n in names if n.startswith(("skipcall_simulator/", "tests/"))]


def test_wheel_installs_into_an_empty_virtualenv_and_runs(wheel, tmp_path):
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if Path(uv).exists():
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        install = [uv, "pip", "install", "--quiet", "--python", str(python), str(wheel)]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(python), "-m", "pip", "install", "--quiet", str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=900)
    about = subprocess.run(
        [str(venv / "bin/tap-skipcall"), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"name": "tap-skipcall"' in about.stdout
    assert '"api_key"' in about.stdout
