"""Real server processes, for end-to-end tests and benchmarks: `allmenning serve` on a free port, stopped afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ALLMENNING = Path(sys.executable).parent / "allmenning"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(base_url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {process.stdout.read() if process.stdout else ''}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"server at {base_url} did not become healthy")


class Servers(list):
    """The base URLs of running servers, with their processes (a benchmark reads their memory)."""

    processes: list[subprocess.Popen]


@contextmanager
def running_servers(database_url: str, count: int, tmp_path: Path, *, at_once: bool = False, **env: str) -> Iterator[Servers]:
    """`count` server processes on one database; yields their base URLs. By default each starts after the one before
    is healthy; `at_once` starts them together, as two instances of a deployment do."""
    processes, urls = [], Servers()
    urls.processes = processes
    try:
        for i in range(count):
            port = free_port()
            environment = {
                **os.environ,
                "ALLMENNING_DATABASE_URL": database_url,
                "ALLMENNING_SCHEDULER": "off",
                "ALLMENNING_MAIL_DIR": str(tmp_path / f"mail{i}"),
                **env,
            }
            command = [str(ALLMENNING), "serve", "--port", str(port)]
            processes.append(subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
            urls.append(f"http://127.0.0.1:{port}")
            if not at_once:
                wait_until_healthy(urls[-1], processes[-1])  # one at a time: each migrates and seeds on start
        for url, process in zip(urls, processes, strict=True):
            wait_until_healthy(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
