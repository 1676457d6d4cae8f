"""`cryptoscope serve demo|create-key` and the serve command's clear refusal without a lake."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cryptoscope.cli import app
from cryptoscope.serve.auth import AuthStore


def test_demo_prints_the_console_url_and_logins_that_work(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    out = CliRunner().invoke(app, ["serve", "demo", "--lake", str(lake), "--port", "8123"])
    assert out.exit_code == 0, out.output
    assert "console:           http://127.0.0.1:8123/console/" in out.output
    admin = re.search(r"admin login:\s+demo-admin / (\S+)", out.output)
    key = re.search(r"service API key:\s+(cs_\S+)", out.output)
    assert admin and key
    auth = AuthStore(lake / "_serve")
    who = auth.login("demo-admin", admin.group(1))
    assert who is not None and who.role == "admin" and who.may_see_pii()
    analyst = re.search(r"analyst login:\s+demo-analyst / (\S+)", out.output)
    assert analyst and not auth.login("demo-analyst", analyst.group(1)).may_see_pii()  # type: ignore[union-attr]
    service = auth.check_key(key.group(1))
    assert service is not None and service.role == "service"
    with sqlite3.connect(lake / "_serve" / "auth.db") as con:
        stored = [r[0] for r in con.execute("SELECT hash FROM api_keys UNION ALL SELECT password FROM users")]
    assert len(stored) == 3 and all(h.startswith("scrypt$") for h in stored)  # only hashes are stored
    assert not any(key.group(1).split(".")[1] in h or admin.group(1) in h for h in stored)


def test_serve_refuses_a_missing_lake_with_exit_2(tmp_path: Path) -> None:
    import sys

    from cryptoscope.cli import main

    argv = sys.argv
    sys.argv = ["cryptoscope", "serve", "--lake", str(tmp_path / "nope")]
    try:
        main()
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("serve started without a lake")
    finally:
        sys.argv = argv


def test_serve_refuses_a_negative_batch_wait_naming_the_option(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from cryptoscope.cli import main

    (tmp_path / "lake").mkdir()
    argv = sys.argv
    sys.argv = ["cryptoscope", "serve", "--lake", str(tmp_path / "lake"), "--batch-wait-ms", "-1"]
    try:
        with pytest.raises(SystemExit) as exited:
            main()
    finally:
        sys.argv = argv
    assert exited.value.code == 2 and "--batch-wait-ms must be 0 or more" in capsys.readouterr().err
