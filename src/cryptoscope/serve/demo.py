"""What `make demo` ends with: demo logins and the console URL.

>>> print(prepare(Path("demo-lake"), Path("models-registry")))     # doctest: +SKIP
"""

from __future__ import annotations

import secrets
from pathlib import Path

from cryptoscope.serve.auth import AuthStore


def prepare(lake: Path | str, registry: Path | str = Path("models-registry"), *, host: str = "127.0.0.1",
            port: int = 8000, work: Path | None = None, reco_model: Path | None = None) -> str:
    """Create (or reset) ``demo-admin`` and ``demo-analyst`` with fresh passwords and a service API key;
    return the lines to print: how to start the server (with ``reco_model``, the recommender it serves),
    the console URL, the logins and the key."""
    lake = Path(lake)
    store = AuthStore(work or lake / "_serve")
    admin, analyst = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    store.add_user("demo-admin", "admin", admin)
    store.add_user("demo-analyst", "analyst", analyst, pii=False)
    key = store.create_key("demo-service", "service")
    return "\n".join([
        f"start the server:  cryptoscope serve --lake {lake} --registry {registry} --host {host} --port {port}"
        + (f" --reco-model {reco_model}" if reco_model else ""),
        f"console:           http://{host}:{port}/console/   (API docs: http://{host}:{port}/docs)",
        f"admin login:       demo-admin / {admin}",
        f"analyst login:     demo-analyst / {analyst}   (personal data masked)",
        f"service API key:   {key}",
    ])
