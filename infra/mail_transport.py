"""Mail transports: SMTP, or a folder of .eml files, and what a failed send means."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from infra.settings import Settings

Send = Callable[[EmailMessage], Awaitable[None]]


class SmtpTransport:
    """ALLMENNING_SMTP_URL: smtp://host:port, smtp://user:password@host:port?starttls=true, or smtps://host:port."""

    def __init__(self, url: str, *, timeout: float = 30) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"ALLMENNING_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        self.use_tls = parts.scheme == "smtps"
        self.start_tls = query.get("starttls") in ("true", "1", "yes", "on")
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.use_tls else 587 if self.start_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        """One SMTP conversation for a batch of mails."""
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
        try:

            async def send(message: EmailMessage) -> None:
                await smtp.send_message(message)

            yield send
        finally:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()


class FolderTransport:
    """Without SMTP, each mail lands as an .eml file named by its Message-ID, so a re-send overwrites, not repeats."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        self.folder.mkdir(parents=True, exist_ok=True)

        async def send(message: EmailMessage) -> None:
            name = (message["Message-ID"] or make_msgid()).strip("<>").replace("@", "_at_").replace("/", "_")
            partial = self.folder / f".{name}.tmp"
            partial.write_bytes(bytes(message))
            partial.replace(self.folder / f"{name}.eml")  # a reader of the folder never sees half a mail

        yield send


Transport = SmtpTransport | FolderTransport


def transport_for(settings: Settings) -> Transport:
    return SmtpTransport(settings.smtp_url) if settings.smtp_url else FolderTransport(settings.mail_dir)


async def deliver_now(settings: Settings, message: EmailMessage) -> None:
    """For mail that cannot wait for the outbox, such as a sign-in link: sent at once, by SMTP or into the folder."""
    async with transport_for(settings).connect() as send:
        await send(message)


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
