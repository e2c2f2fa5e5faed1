"""Building a workspace's vendor clients from its stored connections.

One ``Connectors`` per process (per ``Database``): pooled HTTP clients per vendor base URL, and rate budgets
in the broker's Redis when there is one, so every process draws from one budget per vendor account. The
demo and the tests route a simulator's base URL to an in-process client with ``route``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import httpx

from interlink import __version__
from interlink.connections.accelo_tokens import ConnectionTokenStore as AcceloTokenStore
from interlink.connections.service import credentials_of
from interlink.connections.tokens import ConnectionTokenStore as HubSpotTokenStore
from interlink.connectors.accelo.client import AcceloClient, accelo_client
from interlink.connectors.accelo.credentials import AcceloCredentials
from interlink.connectors.http import CallObserver
from interlink.connectors.hubspot.client import HubSpotClient, hubspot_client
from interlink.connectors.hubspot.credentials import HubSpotCredentials
from interlink.db import Database
from interlink.kit.crypto import CredentialCipher
from interlink.metrics import observe_vendor_call
from interlink.models import Connection


class Connectors:
    def __init__(
        self,
        cipher: CredentialCipher,
        *,
        db: Database | None = None,
        budget_storage_uri: str = "memory://",
        observer: CallObserver = observe_vendor_call,
        timeout: float = 30.0,
        accelo_options: dict[str, Any] | None = None,
    ) -> None:
        self.cipher = cipher
        self.db = db  # where refreshed OAuth tokens are kept (without one, in memory for the client's life)
        # e.g. a compressed rate window for a simulator (requests_per_window, window_seconds)
        self.accelo_options = dict(accelo_options or {})
        self.budget_storage_uri = budget_storage_uri
        self.observer = observer
        self.timeout = timeout
        self._clients: dict[str, httpx.Client] = {}
        self._lock = threading.Lock()

    def http_client(self, base_url: str) -> httpx.Client:
        key = base_url.rstrip("/")
        with self._lock:
            if key not in self._clients:
                self._clients[key] = httpx.Client(
                    timeout=httpx.Timeout(self.timeout, connect=10.0),
                    headers={"User-Agent": f"Interlink/{__version__}"},
                )
            return self._clients[key]

    def route(self, base_url: str, client: httpx.Client) -> None:
        """Send every call for ``base_url`` through ``client`` (a simulator mounted in-process)."""
        with self._lock:
            self._clients[base_url.rstrip("/")] = client

    def hubspot(self, connection: Connection) -> HubSpotClient:
        credentials = credentials_of(connection, self.cipher, HubSpotCredentials)
        store = None
        if self.db is not None and credentials.auth_type == "oauth":
            store = HubSpotTokenStore(self.db, connection.workspace_id, self.cipher)
        return hubspot_client(
            credentials,
            http_client=self.http_client(credentials.base_url),
            budget_storage_uri=self.budget_storage_uri,
            observer=self.observer,
            token_store=store,
        )

    def accelo(self, connection: Connection) -> AcceloClient:
        credentials = credentials_of(connection, self.cipher, AcceloCredentials)
        # A service app gets a new token when its token nears expiry; keeping it with the connection means
        # one token per deployment, not one per client.
        store = AcceloTokenStore(self.db, self.cipher, connection.id) if self.db is not None else None
        return accelo_client(
            credentials,
            http_client=self.http_client(credentials.api_base_url),
            budget_storage_uri=self.budget_storage_uri,
            observer=self.observer,
            token_store=store,
            **self.accelo_options,
        )

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


_registry: weakref.WeakKeyDictionary[Database, Connectors] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def connectors_for(db: Database, factory: Callable[[Database], Connectors] | None = None) -> Connectors:
    """The process's Connectors for this database (made on first use)."""
    with _registry_lock:
        if db not in _registry:
            _registry[db] = (factory or _default)(db)
        return _registry[db]


def install(db: Database, connectors: Connectors) -> Connectors:
    with _registry_lock:
        _registry[db] = connectors
    return connectors


def _default(db: Database) -> Connectors:
    settings = db.settings
    return Connectors(
        CredentialCipher(settings.secret_keys()), db=db, budget_storage_uri=settings.broker_url or "memory://"
    )
