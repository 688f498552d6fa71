"""Static checks of docker-compose.yml, the Dockerfile and the lock (no Docker engine needed).

`docker-compose.yml` is validated against the Compose Specification's own JSON schema, vendored
unchanged in `tests/unit/data/compose-spec.json` (taken from the npm package `dclint` 3.1.0,
which ships it; provenance in `tests/unit/data/README.md`). Like compose, the test interpolates
`${VAR}` references before validating, using sample values for the secrets.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft7Validator
from pydantic import BaseModel

from iscflow.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "data" / "compose-spec.json"
ISCFLOW_SERVICES = ("migrate", "api", "worker")
SAMPLE_SECRETS = {
    "POSTGRES_PASSWORD": "3f9c0d6e8a1b4c7d9e2f5a8b",
    "TEMPORAL_DB_PASSWORD": "7a2b9c4d1e6f3a8b5c0d7e2f",
    "ISCFLOW_DB_PASSWORD": "c4d7e0f3a6b9c2d5e8f1a4b7",
    "ISCFLOW_SECRET_KEY": "p6Jt0mXr3yqW8vZk2nB5cF9hL1sD4gA7eR0uT3iO6pQ",
    "ISCFLOW_AUDIT_SIGNING_KEY": "q0P0Zl3yNnq5Jx7o2x3V9m1q0y8c5y2Z4W6b8d0f2h4=",
}
# What a distributed deployment must set: the embedded defaults point at loopback, at SQLite in
# a per-process data directory, or at keys generated per process (which replicas would not share).
DISTRIBUTED_REQUIRED = {
    "ISCFLOW_DATABASE_URL",
    "ISCFLOW_TEMPORAL_ADDRESS",
    "ISCFLOW_TEMPORAL_NAMESPACE",
    "ISCFLOW_TASK_QUEUE",
    "ISCFLOW_PUBLIC_URL",
    "ISCFLOW_SECRET_KEY",
    "ISCFLOW_AUDIT_SIGNING_KEY",
    "ISCFLOW_MAIL__HOST",
    "ISCFLOW_MAIL__PORT",
}
_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` on every string value."""
    if isinstance(value, dict):
        return {key: _interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = env.get(name)
        missing = current is None or (current == "" and op is not None and op.startswith(":"))
        if not missing:
            return str(current)
        if op is not None and op.endswith("?"):
            raise KeyError(f"{name}: {arg}")
        return arg if op is not None else ""

    return _REFERENCE.sub(substitute, value.replace("$$", "\0")).replace("\0", "$")


def _raw_compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def _compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = _interpolate(_raw_compose(), SAMPLE_SECRETS if env is None else env)
    return data


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


# The Compose file itself


def test_compose_file_is_valid_against_the_compose_specification_schema() -> None:
    validator = Draft7Validator(json.loads(SCHEMA.read_text()))

    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_compose())]

    assert errors == []


def test_the_schema_check_catches_a_misspelt_key() -> None:
    validator = Draft7Validator(json.loads(SCHEMA.read_text()))
    broken = _compose()
    broken["services"]["api"]["depends_onn"] = broken["services"]["api"].pop("depends_on")

    assert not validator.is_valid(broken)


def test_compose_refuses_to_start_without_each_secret() -> None:
    for name in SAMPLE_SECRETS:
        with pytest.raises(KeyError, match=name):
            _compose({k: v for k, v in SAMPLE_SECRETS.items() if k != name})


def test_compose_has_the_designed_services() -> None:
    assert {
        "postgres",
        "temporal",
        "temporal-ui",
        "mailpit",
        "migrate",
        "api",
        "worker",
    } <= set(_services())


def test_every_service_the_deploy_docs_name_exists_and_every_service_is_documented() -> None:
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text.split("## Compose", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.MULTILINE))

    assert documented == set(_services())


def test_every_image_is_pinned_to_a_version() -> None:
    version = _pyproject()["project"]["version"]
    pinned = re.compile(r"^[\w./-]+:v?\d+\.\d+(\.\d+)?$|@sha256:[0-9a-f]{64}$")
    for name, service in _services().items():
        image = service.get("image", "")
        assert pinned.search(image), f"{name}: {image!r} is not pinned"
        if "build" in service:
            assert image == f"iscflow:{version}", f"{name} builds iscflow as {image}"


def test_the_worker_runs_two_replicas_and_publishes_nothing() -> None:
    worker = _services()["worker"]
    assert worker["deploy"]["replicas"] == 2
    assert "ports" not in worker and "container_name" not in worker


def test_long_running_services_have_health_checks_that_dependents_wait_for() -> None:
    services = _services()
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits on {dependency}"
            elif condition == "service_completed_successfully":
                assert "restart" not in services[dependency], f"{dependency} is a one-shot job"
            else:
                pytest.fail(f"{name} starts before {dependency} is ready ({condition})")
    for name in ("postgres", "temporal", "mailpit", "api"):
        assert "healthcheck" in services[name], name


def test_the_migration_runs_before_the_api_and_workers() -> None:
    services = _services()
    assert services["migrate"]["command"] == ["iscflow", "db", "upgrade"]
    for name in ("api", "worker"):
        rule = services[name]["depends_on"]["migrate"]
        assert rule == {"condition": "service_completed_successfully"}


def test_every_mounted_file_exists_and_its_shell_scripts_parse() -> None:
    for service in _services().values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
    for script in sorted((ROOT / "deploy").rglob("*.sh")):
        shell = "bash" if script.read_text().startswith("#!/bin/bash") else "sh"
        checked = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True)
        assert checked.returncode == 0, f"{script}: {checked.stderr}"


# The environment the iscflow services get


def _setting_exists(variable: str) -> bool:
    model: type[BaseModel] = Settings
    parts = variable.removeprefix("ISCFLOW_").lower().split("__")
    for index, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        if index < len(parts) - 1:
            annotation = field.annotation
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def test_every_iscflow_variable_given_to_the_iscflow_image_is_a_setting() -> None:
    for name, service in _services().items():
        if "build" not in service:
            continue
        for variable in _environment(service):
            if variable.startswith("ISCFLOW_"):
                assert _setting_exists(variable), f"{name}: {variable} is not a setting"


def test_every_variable_a_distributed_deployment_needs_is_set_alike_for_each_process() -> None:
    environments = [_environment(_services()[name]) for name in ISCFLOW_SERVICES]

    for environment in environments:
        assert set(environment) >= DISTRIBUTED_REQUIRED
    assert all(environment == environments[0] for environment in environments)


def test_the_compose_environment_builds_settings_that_point_at_the_compose_services(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = _services()
    for variable in [v for v in os.environ if v.startswith("ISCFLOW_")]:
        monkeypatch.delenv(variable)
    for variable, value in _environment(services["api"]).items():
        monkeypatch.setenv(variable, value)

    settings = Settings(_env_file=None)

    database = urlsplit(settings.database_url)
    assert (database.scheme, database.hostname, database.path) == (
        "postgresql+psycopg", "postgres", "/iscflow",
    )  # fmt: skip
    assert database.password == SAMPLE_SECRETS["ISCFLOW_DB_PASSWORD"]
    assert settings.temporal_address == "temporal:7233"
    assert settings.temporal_namespace == services["temporal-namespace"]["environment"]["NAMESPACE"]
    assert (settings.mail.host, settings.mail.port) == ("mailpit", 1025)
    assert settings.signing_key() == SAMPLE_SECRETS["ISCFLOW_SECRET_KEY"].encode()
    assert len(settings.audit_key()) == 32
    assert settings.temporal_tls_enabled is False  # the compose Temporal is on a private network


# The Dockerfile and the lock


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        current += stripped.removesuffix("\\").strip() + " "
        if not stripped.endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(text.split(" ", 1)[0].upper(), text.split(" ", 1)[1]) for text in logical]


_NO_EFFECT = {"--quiet", "--no-cache-dir", "--disable-pip-version-check"}


def _pip_installs(commands: list[str]) -> list[list[str]]:
    """What each `pip install` installs: its arguments less the flags that change nothing."""
    installs = []
    for command in commands:
        words = shlex.split(command)
        for index in range(len(words) - 1):
            if words[index : index + 2] == ["pip", "install"]:
                arguments = [w for w in words[index + 2 :] if w not in _NO_EFFECT]
                installs.append(arguments)
    return installs


def _dev_installs() -> list[list[str]]:
    lines = (ROOT / "dev").read_text().splitlines()
    return [i for i in _pip_installs(lines) if i != ["--upgrade", "pip"]]


def test_dockerfile_installs_the_lock_with_the_same_command_as_dev_then_the_project() -> None:
    runs = [arguments for instruction, arguments in _dockerfile() if instruction == "RUN"]
    image, dev = _pip_installs(runs), _dev_installs()

    assert dev == [["-r", "requirements.lock"], ["-e", ".[dev]"]]
    assert image == [["-r", "requirements.lock"], ["--no-deps", "."]]


def test_readme_names_the_same_install_command() -> None:
    assert "pip install -r requirements.lock" in (ROOT / "README.md").read_text()


def test_dockerfile_runs_as_a_non_root_user_it_creates() -> None:
    instructions = _dockerfile()
    users = [(i, arguments) for i, (name, arguments) in enumerate(instructions) if name == "USER"]
    cmd = max(i for i, (name, _) in enumerate(instructions) if name == "CMD")

    assert users, "no USER instruction"
    index, user = users[-1]
    assert user not in {"root", "0"} and not user.startswith(("root:", "0:")) and index < cmd
    assert any(name == "RUN" and "useradd" in a and a.endswith(user) for name, a in instructions)


def test_dockerfile_base_image_is_pinned() -> None:
    base = next(arguments for name, arguments in _dockerfile() if name == "FROM")
    assert re.match(r"^python:\d+\.\d+\.\d+-slim-\w+$", base), base


def test_dockerfile_copies_every_package_the_project_installs() -> None:
    setuptools = _pyproject()["tool"]["setuptools"]
    needed = {p.split(".")[0] for p in setuptools["packages"]}
    needed |= {f"{m}.py" for m in setuptools["py-modules"]} | {"pyproject.toml", "README.md"}
    copied = set()
    for name, arguments in _dockerfile():
        if name == "COPY":
            copied |= {Path(source).as_posix() for source in shlex.split(arguments)[:-1]}

    assert needed | {"requirements.lock"} <= copied


def test_every_python_package_is_listed_so_a_non_editable_install_ships_it() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in {p.split(".")[0] for p in listed}
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }

    assert found <= listed, f"missing from [tool.setuptools] packages: {sorted(found - listed)}"


def test_the_lock_pins_exactly_the_installed_runtime_dependencies() -> None:
    checked = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lock_requirements.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_lock_holds_exact_pins_and_no_dev_tools() -> None:
    lines = [
        line
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    names = {line.split("==", 1)[0] for line in lines}

    assert all(re.fullmatch(r"[a-z0-9-]+==[\w.]+", line) for line in lines), lines
    assert {"temporalio", "fastapi", "sqlmodel", "psycopg-binary"} <= names
    assert not names & {"iscflow", "pytest", "ruff", "mypy", "import-linter", "jsonschema"}


def _third_party_imports() -> set[str]:
    setuptools = _pyproject()["tool"]["setuptools"]
    own = {p.split(".")[0] for p in setuptools["packages"]} | set(setuptools["py-modules"])
    files = [ROOT / f"{module}.py" for module in setuptools["py-modules"]]
    files += [path for package in sorted(own) for path in (ROOT / package).rglob("*.py")]
    found: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - own - set(sys.stdlib_module_names)


def test_the_lock_provides_every_third_party_module_the_code_imports() -> None:
    locked = {
        line.split("==", 1)[0]
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    }
    providers = metadata.packages_distributions()

    for module in sorted(_third_party_imports()):
        distributions = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        assert distributions & locked, f"`import {module}`: no locked distribution provides it"
