"""SMTP sinks for the benchmarks, each in a process of its own, counting what they accept.

- `aiosmtpd`: the SMTP server the tests use (a full server in Python: about 2 ms of CPU a mail);
- `minimal`: a responder that answers every command and reads each message to its final dot, parsing nothing:
  a stand-in for a mail server on another machine, whose CPU is not the system's under test.

Out of process, as a real mail server is: in the benchmark's process it would take turns at the GIL with the very
sender it measures (and with the load generator, in bench/booking.py). Asked `count` on its standard input, a sink
answers how many mails it has accepted; it ends when its standard input closes.

    .venv/bin/python -m bench.smtp_sink PORT [aiosmtpd|minimal]
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sink:
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def count(self) -> int:
        """How many mails the sink has accepted so far."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())


@contextmanager
def smtp_sink(kind: str = "aiosmtpd") -> Iterator[Sink]:
    port = free_port()
    command = [sys.executable, "-m", "bench.smtp_sink", str(port), kind]
    process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout and process.stdout.readline().strip() == "ready", "the SMTP sink did not start"
        yield Sink(port, process)
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def answer_counts(accepted: list[int]) -> None:
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "count":
            print(accepted[0], flush=True)


def serve_aiosmtpd(port: int) -> None:
    from aiosmtpd.controller import Controller

    accepted = [0]

    class Counting:
        async def handle_DATA(self, server, session, envelope) -> str:
            accepted[0] += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        answer_counts(accepted)
    finally:
        controller.stop()


def serve_minimal(port: int) -> None:
    accepted = [0]
    greeting = b"250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 104857600\r\n"

    async def conversation(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        try:
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(greeting)
                elif verb == b"DATA":
                    writer.write(b"354 end with <CRLF>.<CRLF>\r\n")
                    await reader.readuntil(b"\r\n.\r\n")
                    accepted[0] += 1
                    writer.write(b"250 OK\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:  # HELO, MAIL, RCPT, RSET, NOOP
                    writer.write(b"250 OK\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(conversation, "127.0.0.1", port, limit=2**24)
        async with server:
            await asyncio.get_running_loop().run_in_executor(None, answer_counts, accepted)

    asyncio.run(main())


if __name__ == "__main__":
    (serve_minimal if sys.argv[2:] == ["minimal"] else serve_aiosmtpd)(int(sys.argv[1]))
