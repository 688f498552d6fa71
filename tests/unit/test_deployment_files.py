"""Static checks of docker-compose.yml and the Dockerfile (no Docker engine needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from iscflow.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_has_the_designed_services() -> None:
    services = set(_compose()["services"])
    assert {
        "postgres",
        "temporal",
        "temporal-ui",
        "mailpit",
        "migrate",
        "api",
        "worker",
    } <= services


def test_every_compose_image_is_pinned_to_a_version() -> None:
    for name, service in _compose()["services"].items():
        if "image" in service:
            image = service["image"]
            assert ":" in image and not image.endswith(":latest"), f"{name}: {image}"


def test_compose_iscflow_variables_are_settings() -> None:
    known = {f"ISCFLOW_{name.upper()}" for name in Settings.model_fields}
    for name, service in _compose()["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("ISCFLOW_"):
                assert variable in known, f"{name}: {variable} is not a setting"


def test_dockerfile_runs_as_a_non_root_user_and_installs_the_project() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    assert any(line.startswith("USER ") and "root" not in line for line in lines)
    assert "RUN python -m pip install --no-cache-dir ." in lines
