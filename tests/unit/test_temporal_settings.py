"""Production Temporal settings: TLS, mTLS client certificates (Temporal Cloud style), API key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.service import TLSConfig

from iscflow.settings import Settings
from iscflow.temporal import tls_config


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_a_local_server_is_reached_without_tls() -> None:
    assert tls_config(_settings()) is False


def test_an_api_key_alone_turns_tls_on_with_the_system_roots() -> None:
    assert tls_config(_settings(temporal_api_key="tcld-key")) is True


def test_tls_can_be_asked_for_explicitly() -> None:
    assert tls_config(_settings(temporal_tls=True)) is True


def test_client_certificate_key_and_server_ca_are_read_from_their_files(tmp_path: Path) -> None:
    for name in ("client.pem", "client.key", "ca.pem"):
        (tmp_path / name).write_bytes(f"--{name}--".encode())

    config = tls_config(
        _settings(
            temporal_tls_cert=tmp_path / "client.pem",
            temporal_tls_key=tmp_path / "client.key",
            temporal_tls_server_ca=tmp_path / "ca.pem",
            temporal_tls_server_name="temporal.example.org",
        )
    )

    assert config == TLSConfig(
        server_root_ca_cert=b"--ca.pem--",
        domain="temporal.example.org",
        client_cert=b"--client.pem--",
        client_private_key=b"--client.key--",
    )


def test_the_settings_come_from_iscflow_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ISCFLOW_TEMPORAL_NAMESPACE", "iscflow.a1b2c")
    monkeypatch.setenv("ISCFLOW_TEMPORAL_TLS_CERT", "/run/secrets/temporal.pem")
    monkeypatch.setenv("ISCFLOW_TEMPORAL_TLS_KEY", "/run/secrets/temporal.key")
    monkeypatch.setenv("ISCFLOW_TEMPORAL_API_KEY", "tcld-key")

    settings = _settings()

    assert settings.temporal_namespace == "iscflow.a1b2c"
    assert settings.temporal_tls_cert == Path("/run/secrets/temporal.pem")
    assert settings.temporal_tls_key == Path("/run/secrets/temporal.key")
    assert settings.temporal_api_key is not None
    assert settings.temporal_api_key.get_secret_value() == "tcld-key"
    assert "tcld-key" not in repr(settings)


def test_a_client_certificate_without_its_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="together"):
        _settings(temporal_tls_cert="/run/secrets/temporal.pem")


def test_certificates_with_tls_switched_off_are_refused() -> None:
    with pytest.raises(ValidationError, match="temporal_tls is false"):
        _settings(temporal_tls=False, temporal_tls_server_ca="/run/secrets/ca.pem")
