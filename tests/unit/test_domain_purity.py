"""The domain is pure Python + pydantic: importing it pulls in no framework or I/O library.

Checked in a fresh interpreter, because this test process has already imported all of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("temporalio", "sqlmodel", "sqlalchemy", "fastapi", "structlog")

_PROBE = """
import importlib, json, pkgutil, sys
import domain
forbidden = {forbidden!r}
imported = ["domain"]
for info in pkgutil.walk_packages(domain.__path__, "domain."):
    importlib.import_module(info.name)
    imported.append(info.name)
loaded = sorted(
    name for name in sys.modules
    if any(name == f or name.startswith(f + ".") for f in forbidden)
)
print(json.dumps({{"imported": imported, "loaded": loaded}}))
"""


def _probe() -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(forbidden=FORBIDDEN)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    probed: dict[str, list[str]] = json.loads(result.stdout)
    return probed


def test_importing_every_domain_module_loads_no_framework_or_io_library() -> None:
    probed = _probe()

    expected_modules = {
        f"domain.{path.stem}"
        for path in (PROJECT_ROOT / "domain").glob("*.py")
        if path.stem != "__init__"
    }
    assert expected_modules <= set(probed["imported"])  # the probe really walked the package
    assert probed["loaded"] == []
