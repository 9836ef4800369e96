"""Mail transports: SMTP, or a folder of .eml files, and what a failed send means; and a mail in its wire form."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import make_msgid
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from infra.settings import Settings

KEEP_OPEN = 10.0  # seconds an SMTP conversation stays open after its last mail, for the next drain to use


class Outgoing:
    """A mail written once in its wire form (CRLF lines, every header encoded and folded) and sent as these bytes.

    Read as a message (`mail["Subject"]`, `mail.get_body()`, …) it is these very bytes parsed with the standard
    library's default policy (with LF line ends, as Python reads a mail from a file), as a recipient's client reads
    them; nothing on the way out parses it."""

    def __init__(self, wire: bytes, *, sender: str, recipients: tuple[str, ...], message_id: str, eight_bit: bool) -> None:
        self.wire = wire
        self.sender, self.recipients, self.message_id = sender, recipients, message_id
        self.eight_bit = eight_bit  # a part is 8bit: the server must take BODY=8BITMIME, or it is re-encoded
        self.needs_smtputf8 = not (sender + "".join(recipients)).isascii()

    @cached_property
    def message(self) -> EmailMessage:
        return BytesParser(policy=default_policy).parsebytes(self.wire.replace(b"\r\n", b"\n"))  # type: ignore[return-value]

    def __getitem__(self, name: str) -> Any:
        return self.message[name]

    def __contains__(self, name: str) -> bool:
        return name in self.message

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.message, name)

    def __bytes__(self) -> bytes:
        return self.wire

    def __repr__(self) -> str:
        return f"<Outgoing {self.message_id} to {', '.join(self.recipients)}: {len(self.wire)} bytes>"


Mail = EmailMessage | Outgoing
Send = Callable[[Mail], Awaitable[None]]


class SmtpTransport:
    """ALLMENNING_SMTP_URL: smtp://host:port, smtp://user:password@host:port?starttls=true, or smtps://host:port;
    `connections=N` (default 2, at most 8) sets how many conversations a drain holds with the server at once.

    SMTP waits for the server's answer to every command: a second conversation has the server work on one mail
    while this process writes or sends another. With `keep_open` (the scheduler's transport: `KEEP_OPEN`) a
    conversation stays open that many seconds after use, and the next drain checks it with NOOP and sends on it
    instead of connecting and greeting again for each handful of mails a commit wakes the sender for; `close()` ends them."""

    def __init__(self, url: str, *, timeout: float = 30, keep_open: float = 0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"ALLMENNING_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        self.use_tls = parts.scheme == "smtps"
        self.start_tls = query.get("starttls") in ("true", "1", "yes", "on")
        self.conversations = _connections(query.get("connections", "2"))
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.use_tls else 587 if self.start_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.keep_open = keep_open
        self._slots = asyncio.Semaphore(self.conversations)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # conversations kept open, and since when, oldest first
        self._closer: asyncio.Task | None = None

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        """One SMTP conversation for mails sent one after another (one kept open, if it still answers)."""
        async with self._slots:
            smtp = await self._reused() or await self._opened()
            try:

                async def send(message: Mail) -> None:
                    await send_on(smtp, message)

                yield send
            except BaseException:
                smtp.close()  # a conversation a failure left in any state is not used again
                raise
            if self.keep_open > 0 and smtp.is_connected:
                self._idle.append((smtp, time.monotonic()))
                if self._closer is None or self._closer.done():
                    self._closer = asyncio.create_task(self._close_when_idle())
            else:
                await _quit(smtp)

    async def _reused(self) -> aiosmtplib.SMTP | None:
        while self._idle:
            smtp, _ = self._idle.pop()  # the one used last: the likeliest to be open still
            try:
                await smtp.noop()
                return smtp
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
        return None

    async def _opened(self) -> aiosmtplib.SMTP:
        smtp = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            timeout=self.timeout,
        )
        await smtp.connect()
        if smtp.is_ehlo_or_helo_needed:  # so the extensions (8BITMIME, SMTPUTF8) are known before the first mail
            try:
                await smtp.ehlo()
            except aiosmtplib.SMTPHeloError:
                await smtp.helo()
        return smtp

    async def _close_when_idle(self) -> None:
        while self._idle:
            await asyncio.sleep(max(0.0, self._idle[0][1] + self.keep_open - time.monotonic()))
            while self._idle and time.monotonic() - self._idle[0][1] >= self.keep_open:
                smtp, _ = self._idle.pop(0)
                await _quit(smtp)

    async def close(self) -> None:
        """End the conversations kept open (a stopping process says QUIT), once those in use are done."""
        for _ in range(self.conversations):
            await self._slots.acquire()
        try:
            idle, self._idle = self._idle, []
            for smtp, _ in idle:
                await _quit(smtp)
        finally:
            for _ in range(self.conversations):
                self._slots.release()
        if self._closer is not None and not self._closer.done():
            self._closer.cancel()


def _connections(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 8:
        raise ValueError(f"ALLMENNING_SMTP_URL: connections must be a whole number from 1 to 8, not {value!r}")
    return int(value)


async def send_on(smtp: aiosmtplib.SMTP, message: Mail) -> None:
    """A written mail goes as its bytes; only a server without 8BITMIME gets it re-encoded to 7 bit by the standard library."""
    if not isinstance(message, Outgoing):
        await smtp.send_message(message)
        return
    options = []
    if message.eight_bit:
        if not smtp.supports_extension("8bitmime"):
            await smtp.send_message(message.message)
            return
        options.append("BODY=8BITMIME")
    if message.needs_smtputf8:
        if not smtp.supports_extension("smtputf8"):
            raise aiosmtplib.SMTPNotSupported("an address with non-ASCII characters needs SMTPUTF8, which this server lacks")
        options.append("SMTPUTF8")
    await smtp.sendmail(message.sender, list(message.recipients), message.wire, mail_options=options)


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


class FolderTransport:
    """Without SMTP, each mail lands as an .eml file named by its Message-ID, so a re-send overwrites, not repeats."""

    conversations = 1

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        self.folder.mkdir(parents=True, exist_ok=True)

        async def send(message: Mail) -> None:
            message_id = message.message_id if isinstance(message, Outgoing) else message["Message-ID"]
            name = (message_id or make_msgid()).strip("<>").replace("@", "_at_").replace("/", "_")
            partial = self.folder / f".{name}.tmp"
            partial.write_bytes(bytes(message))
            partial.replace(self.folder / f"{name}.eml")  # a reader of the folder never sees half a mail

        yield send

    async def close(self) -> None:
        return None


Transport = SmtpTransport | FolderTransport


def transport_for(settings: Settings, *, keep_open: float = 0) -> Transport:
    return SmtpTransport(settings.smtp_url, keep_open=keep_open) if settings.smtp_url else FolderTransport(settings.mail_dir)


async def deliver_now(settings: Settings, message: Mail) -> None:
    """For mail that cannot wait for the outbox, such as a sign-in link: sent at once, by SMTP or into the folder."""
    transport = transport_for(settings)
    try:
        async with transport.connect() as send:
            await send(message)
    finally:
        await transport.close()


def failure_of(exc: BaseException) -> tuple[bool, str]:
    """(permanent, what went wrong): a refused recipient or message stays refused; the server's own trouble passes."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return all(is_permanent_smtp_code(c) for c in codes), f"recipients refused: {exc}"
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return is_permanent_smtp_code(exc.code), f"message refused: {exc.code} {exc.message}"
    return False, f"{type(exc).__name__}: {exc}"


def breaks_connection(exc: BaseException) -> bool:
    """After these the SMTP conversation is over: the rest of the batch waits for the next drain."""
    return isinstance(exc, (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, ConnectionError, OSError))


def is_permanent_smtp_code(code: int) -> bool:
    """5xx answers (no such mailbox, message refused) will not change on retry; 4xx and lost connections may."""
    return 500 <= code < 600
