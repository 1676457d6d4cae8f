"""A real Spark standalone cluster on this machine: one master and N workers, from pyspark's own files.

What the tests and the scale benchmark run `cryptoscope run --engine spark` against, so that serialization,
closures shipped to executors and paths that only the driver can see fail here rather than on the first real
cluster. Nothing is downloaded: ``pip install pyspark`` carries ``bin/spark-class`` and the jars. Each process
is a child of this one, stopped (and its work folder removed) when the block ends.

>>> with local_cluster(workers=2) as master:                                  # doctest: +SKIP
...     subprocess.run(["cryptoscope", "run", "--lake", "demo-lake", "--engine", "spark", "--master", master])
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptoscope.errors import CryptoscopeError


def spark_home() -> Path:
    """pyspark's install folder: it is a complete SPARK_HOME (bin/, jars/)."""
    import pyspark

    return Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_cluster(workers: int = 2, *, cores: int = 1, memory: str = "1g", timeout: float = 90.0) -> Iterator[str]:
    """Start a master and ``workers`` workers on 127.0.0.1; yields the master URL once every worker registered.

    Executors run this interpreter (``PYSPARK_PYTHON``), so functions shipped to them (``mapInPandas``) import
    the same cryptoscope; on a real cluster the same wheel is installed on every node instead."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise CryptoscopeError("a Spark cluster needs a Java 17+ runtime on PATH or in JAVA_HOME")
    work = Path(tempfile.mkdtemp(prefix="cryptoscope-spark-"))
    port, ui = free_port(), free_port()
    env = {**os.environ, "SPARK_HOME": str(spark_home()), "PYSPARK_PYTHON": sys.executable,
           "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_WORKER_DIR": str(work / "work"), "SPARK_LOG_DIR": str(work)}
    spark_class = str(spark_home() / "bin" / "spark-class")
    master = f"spark://127.0.0.1:{port}"
    procs = [_start([spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                     str(port), "--webui-port", str(ui)], env, work / "master.log")]
    try:
        _wait_for(lambda: _alive_workers(ui) >= 0, timeout, "the Spark master", work / "master.log")
        for i in range(workers):
            procs.append(_start([spark_class, "org.apache.spark.deploy.worker.Worker", master, "--cores",
                                 str(cores), "--memory", memory, "--webui-port", str(free_port()),
                                 "--work-dir", str(work / f"worker{i}")], env, work / f"worker{i}.log"))
        _wait_for(lambda: _alive_workers(ui) >= workers, timeout, f"{workers} Spark workers", work / "master.log")
        yield master
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _alive_workers(ui_port: int) -> int:
    """Workers the master counts as ALIVE (its web UI's JSON); -1 while the master does not answer yet."""
    import json

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as reply:
            state = json.load(reply)
    except OSError:
        return -1
    return sum(1 for w in state.get("workers", []) if w.get("state") == "ALIVE")


def _wait_for(ready: object, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise CryptoscopeError(f"{what} did not start within {timeout:.0f}s; log {log}:\n{tail}")


__all__ = ["free_port", "local_cluster", "spark_home"]
