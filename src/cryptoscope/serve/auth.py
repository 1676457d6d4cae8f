"""Who may call what: API keys for services, password logins for the console, three roles.

* **service** — scoring and event feeds, recommendations, chain exposure look-ups;
* **analyst** — the console: cases (read, assign, decide), audit log, monitoring, look-ups; sees
  personal data only when the account was created with ``pii=True``;
* **admin** — everything, personal data included, plus users, keys and snapshots.

Secrets are never stored: passwords and API keys are hashed with scrypt (stdlib ``hashlib.scrypt``,
a memory-hard key-derivation function, 16 MiB per hash) under a random salt. An API key looks like
``cs_<id>.<secret>``: the id finds the row, the secret is checked against its scrypt hash. A check
costs ~50 ms by design, so a key verified once is remembered in process memory as the SHA-256 of its
secret (compared in constant time), with its principal: a remembered key is looked up in the database again
at most once every ``RECHECK_S`` seconds (the check of a remembered key: ~1 µs, ~5 µs with the SQLite read),
so a key revoked by another process (``cryptoscope serve revoke-key``) stops working within that time, and at
once in the process that revoked it. Console sessions are cookies signed
with ``itsdangerous`` (HMAC-SHA1 over a server-side secret), valid for ``SESSION_HOURS``; each carries
a CSRF token that every form post must echo.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer

from cryptoscope.errors import CryptoscopeError

Role = Literal["analyst", "admin", "service"]
ROLES: tuple[str, ...] = ("analyst", "admin", "service")
SESSION_COOKIE = "cryptoscope_session"
SESSION_HOURS = 8
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
_KEY = re.compile(r"^cs_([0-9a-f]{12})\.([A-Za-z0-9_-]{20,100})$")
RECHECK_S = 1.0  # a remembered key is checked against the database (revoked?) at most this often


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    name: str
    role: str
    pii: bool
    via: str  # "key" or "session"
    csrf: str = ""

    def may_see_pii(self) -> bool:
        return self.role == "admin" or (self.role == "analyst" and self.pii)


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """``scrypt$<salt hex>$<hash hex>`` of ``secret``."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` hashes to ``stored`` (constant-time comparison)."""
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    mine = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(mine, bytes.fromhex(digest))


class AuthStore:
    """Users and API keys in a SQLite file; the signing secret in a 0600 file beside it."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(self.folder / "auth.db", check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, "
                          "pii INTEGER NOT NULL, password TEXT NOT NULL, created TEXT NOT NULL)")
        self._con.execute("CREATE TABLE IF NOT EXISTS api_keys (key_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
                          "role TEXT NOT NULL, hash TEXT NOT NULL, created TEXT NOT NULL, revoked INTEGER NOT NULL)")
        self._verified: dict[str, bytes] = {}  # key id -> SHA-256 of its secret, once scrypt said yes
        self._known: dict[str, tuple[Principal, float]] = {}  # key id -> principal, monotonic time of the check
        self.signer = URLSafeTimedSerializer(self._secret(), salt="cryptoscope-console")

    def _secret(self) -> bytes:
        path = self.folder / "session.secret"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
        return path.read_bytes()

    # -- users ---------------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password: str, *, pii: bool = False) -> None:
        """Create or replace a console user (admins always see personal data)."""
        _check(name, role)
        if role == "service":
            raise CryptoscopeError("service accounts log in with API keys, not passwords: use create-key")
        if len(password) < 10:
            raise CryptoscopeError("a password needs at least 10 characters")
        with self._lock:
            self._con.execute("INSERT OR REPLACE INTO users VALUES (?,?,?,?,?)",
                              (name, role, int(pii or role == "admin"), hash_secret(password), _now()))

    def login(self, name: str, password: str) -> Principal | None:
        with self._lock:
            row = self._con.execute("SELECT role, pii, password FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            check_secret(password, hash_secret("timing"))  # same cost whether or not the user exists
            return None
        if not check_secret(password, row[2]):
            return None
        return Principal(name, str(row[0]), bool(row[1]), "session", secrets.token_urlsafe(16))

    def users(self) -> list[tuple[str, str, bool]]:
        with self._lock:
            return [(str(n), str(r), bool(p)) for n, r, p in self._con.execute("SELECT name, role, pii FROM users")]

    # -- API keys ------------------------------------------------------------------------------------
    def create_key(self, name: str, role: str = "service") -> str:
        """A new API key for ``name``; the only time the secret is shown."""
        _check(name, role)
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        with self._lock:
            self._con.execute("INSERT INTO api_keys VALUES (?,?,?,?,?,0)", (key_id, name, role, hash_secret(secret),
                                                                            _now()))
        return f"cs_{key_id}.{secret}"

    def check_key(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None otherwise (reads the database every time)."""
        m = _KEY.fullmatch(key)
        if m is None:
            return None
        key_id, secret = m.group(1), m.group(2)
        with self._lock:
            row = self._con.execute("SELECT name, role, hash, revoked FROM api_keys WHERE key_id = ?",
                                    (key_id,)).fetchone()
        if row is None or row[3]:
            self._forget(key_id)
            return None
        fast = hashlib.sha256(secret.encode()).digest()
        known = self._verified.get(key_id)
        if known is None:
            if not check_secret(secret, str(row[2])):
                return None
            self._verified[key_id] = known = fast
        if not hmac.compare_digest(known, fast):
            return None
        who = Principal(str(row[0]), str(row[1]), False, "key")
        self._known[key_id] = (who, time.monotonic())
        return who

    def known_key(self, key: str) -> Principal | None:
        """``check_key`` for a key this process has verified already (no scrypt, and no database read when
        it was checked less than ``RECHECK_S`` ago: the scoring fast lane's check); None for any other key,
        which then takes the full check."""
        m = _KEY.fullmatch(key)
        if m is None:
            return None
        key_id = m.group(1)
        known = self._verified.get(key_id)
        if known is None:
            return None
        seen = self._known.get(key_id)
        if seen is None or time.monotonic() - seen[1] >= RECHECK_S:
            return self.check_key(key)
        if not hmac.compare_digest(known, hashlib.sha256(m.group(2).encode()).digest()):
            return None
        return seen[0]

    def revoke_key(self, key_id: str) -> bool:
        """Revoke a key (by its id, the 12 characters after ``cs_``); False when there is no such key. Other
        processes serving from this store stop accepting it within ``RECHECK_S`` seconds."""
        with self._lock:
            changed = self._con.execute("UPDATE api_keys SET revoked = 1 WHERE key_id = ?", (key_id,)).rowcount
        self._forget(key_id)
        return bool(changed)

    def _forget(self, key_id: str) -> None:
        self._verified.pop(key_id, None)
        self._known.pop(key_id, None)

    # -- sessions ------------------------------------------------------------------------------------
    def session_cookie(self, who: Principal) -> str:
        return self.signer.dumps({"u": who.name, "r": who.role, "p": who.pii, "c": who.csrf})

    def from_cookie(self, cookie: str) -> Principal | None:
        try:
            data: dict[str, Any] = self.signer.loads(cookie, max_age=SESSION_HOURS * 3600)
        except BadSignature:
            return None
        return Principal(str(data["u"]), str(data["r"]), bool(data["p"]), "session", str(data["c"]))


def _check(name: str, role: str) -> None:
    if role not in ROLES:
        raise CryptoscopeError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if not _NAME.fullmatch(name):
        raise CryptoscopeError(f"user name {name!r}: 2-64 lower-case letters, digits, '_', '.', '-', "
                               "starting with a letter")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
