"""The one way to build a Temporal client, so worker and callers share the data converter."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import TLSConfig

from iscflow.settings import Settings


async def connect(settings: Settings) -> Client:
    api_key = settings.temporal_api_key
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        tls=tls_config(settings),
        api_key=api_key.get_secret_value() if api_key is not None else None,
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """False for a plain local server; True for TLS with the system's roots; else the files."""
    if not settings.temporal_tls_enabled:
        return False
    cert, key, ca = (
        settings.temporal_tls_cert,
        settings.temporal_tls_key,
        settings.temporal_tls_server_ca,
    )
    if cert is None and ca is None and settings.temporal_tls_server_name is None:
        return True
    return TLSConfig(
        server_root_ca_cert=ca.read_bytes() if ca is not None else None,
        domain=settings.temporal_tls_server_name,
        client_cert=cert.read_bytes() if cert is not None else None,
        client_private_key=key.read_bytes() if key is not None else None,
    )
