"""A simulated Accelo deployment: an ASGI app speaking Accelo's API, for tests, demos and benchmarks.

    app = create_app()                                   # in-process:
    client = in_process_client(app, "https://simulator.api.accelo.com")
    sim = app.state.simulator                            # the controller (AcceloSimulator)
    sim.user_update_affiliation(7, email="new@example.com")

or alone: ``interlink simulate accelo --port 8100 --webhook-url http://127.0.0.1:8000/webhooks/accelo/demo``.
The control surface is under ``/_sim`` (see ``control``); the static token ``accelo-simulator-token`` works
until the simulator is reset with another one.
"""

from __future__ import annotations

from interlink.simulators.accelo.app import AcceloSimulatorApp, create_app
from interlink.simulators.accelo.simulator import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_DEPLOYMENT,
    DEFAULT_WEBHOOK_SECRET,
    SERVICE_CLIENT_ID,
    SERVICE_CLIENT_SECRET,
    WEB_CLIENT_ID,
    WEB_CLIENT_SECRET,
    WEB_REDIRECT_URIS,
    AcceloSimulator,
    Fault,
)

__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "DEFAULT_DEPLOYMENT",
    "DEFAULT_WEBHOOK_SECRET",
    "SERVICE_CLIENT_ID",
    "SERVICE_CLIENT_SECRET",
    "WEB_CLIENT_ID",
    "WEB_CLIENT_SECRET",
    "WEB_REDIRECT_URIS",
    "AcceloSimulator",
    "AcceloSimulatorApp",
    "Fault",
    "create_app",
]
