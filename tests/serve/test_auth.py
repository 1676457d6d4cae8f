"""API keys: verified once by scrypt, then remembered; revoking stops a key at once here and within
``RECHECK_S`` in every other process serving from the same store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cryptoscope.cli import app
from cryptoscope.serve import auth
from cryptoscope.serve.auth import AuthStore


def test_a_remembered_key_is_answered_without_reading_the_database(tmp_path: Path) -> None:
    store = AuthStore(tmp_path)
    key = store.create_key("checkout", "service")
    assert store.known_key(key) is None  # never verified by this process: the full check (scrypt) first
    who = store.check_key(key)
    assert who is not None and who.role == "service"
    store._con.close()  # a database read from here on would raise
    assert store.known_key(key) == who


def test_a_wrong_secret_under_a_remembered_id_is_refused(tmp_path: Path) -> None:
    store = AuthStore(tmp_path)
    key = store.create_key("checkout", "service")
    assert store.check_key(key) is not None
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert store.known_key(forged) is None
    assert store.known_key(key) is not None


def test_a_key_revoked_elsewhere_stops_working_within_the_recheck_interval(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "RECHECK_S", 0.2)
    server, admin = AuthStore(tmp_path), AuthStore(tmp_path)  # two processes' views of one store
    key = server.create_key("checkout", "service")
    assert server.check_key(key) is not None
    assert admin.revoke_key(key[3:15])
    assert server.known_key(key) is not None  # remembered: not read again yet
    time.sleep(0.25)
    assert server.known_key(key) is None
    assert server.check_key(key) is None


def test_revoking_in_this_process_stops_the_key_at_once(tmp_path: Path) -> None:
    store = AuthStore(tmp_path)
    key = store.create_key("checkout", "service")
    assert store.check_key(key) is not None
    assert store.revoke_key(key[3:15])
    assert store.known_key(key) is None and store.check_key(key) is None
    assert not store.revoke_key("0123456789ab")  # no such key


def test_the_cli_revokes_a_key_and_names_an_unknown_one(tmp_path: Path) -> None:
    store = AuthStore(tmp_path / "work")
    key = store.create_key("checkout", "service")
    out = CliRunner().invoke(app, ["serve", "revoke-key", key, "--lake", str(tmp_path), "--work",
                                   str(tmp_path / "work")])
    assert out.exit_code == 0, out.output
    assert f"key {key.split('.')[0]} revoked" in out.output
    assert AuthStore(tmp_path / "work").check_key(key) is None
    out = CliRunner().invoke(app, ["serve", "revoke-key", "cs_0123456789ab", "--lake", str(tmp_path), "--work",
                                   str(tmp_path / "work")])
    assert out.exit_code != 0  # `cryptoscope` prints the error and exits 2 (tests/cli: main's handler)
    assert "no API key with id '0123456789ab'" in str(out.exception)
