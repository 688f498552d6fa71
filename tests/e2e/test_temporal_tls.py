"""The client factory connects to a TLS / mTLS front end as a production deployment does.

A TLS-terminating proxy (tests/support/tls.py) stands in for Temporal Cloud or a cluster behind
TLS, in front of the session's plaintext dev server; the settings are the deployment's own
environment variables.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iscflow.settings import Settings
from iscflow.temporal import connect
from tests.support.tls import SERVER_NAME, make_pki, tls_front_end


def _settings(address: str, **env: str) -> Settings:
    return Settings(_env_file=None, temporal_address=address, **env)  # type: ignore[arg-type]


async def test_mtls_client_certificate_from_the_settings_is_accepted(
    temporal_address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pki = make_pki(tmp_path / "pki")
    async with tls_front_end(pki, upstream=temporal_address, require_client_cert=True) as address:
        monkeypatch.setenv("ISCFLOW_TEMPORAL_TLS_CERT", str(pki.client_cert))
        monkeypatch.setenv("ISCFLOW_TEMPORAL_TLS_KEY", str(pki.client_key))
        monkeypatch.setenv("ISCFLOW_TEMPORAL_TLS_SERVER_CA", str(pki.ca_cert))
        monkeypatch.setenv("ISCFLOW_TEMPORAL_TLS_SERVER_NAME", SERVER_NAME)
        client = await connect(_settings(address))

        assert await client.service_client.check_health()


async def test_mtls_front_end_refuses_a_client_without_certificate(
    temporal_address: str, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path / "pki")
    async with tls_front_end(pki, upstream=temporal_address, require_client_cert=True) as address:
        settings = _settings(
            address,
            temporal_tls_server_ca=str(pki.ca_cert),
            temporal_tls_server_name=SERVER_NAME,
        )
        with pytest.raises(RuntimeError):
            await connect(settings)


async def test_an_api_key_connects_over_tls(temporal_address: str, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    async with tls_front_end(pki, upstream=temporal_address, require_client_cert=False) as address:
        settings = _settings(
            address,
            temporal_api_key="tcld-test-key",
            temporal_tls_server_ca=str(pki.ca_cert),
            temporal_tls_server_name=SERVER_NAME,
        )
        client = await connect(settings)

        assert await client.service_client.check_health()


async def test_a_plaintext_client_cannot_talk_to_the_tls_front_end(
    temporal_address: str, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path / "pki")
    async with tls_front_end(pki, upstream=temporal_address, require_client_cert=False) as address:
        with pytest.raises(RuntimeError):
            await connect(_settings(address, temporal_tls="false"))
