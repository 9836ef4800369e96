"""Settings read from ALLMENNING_* environment variables, with defaults that work on a fresh machine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Europe/Oslo")


def async_database_url(url: str) -> str:
    """Accept the plain URLs people write and name the async driver we use."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and "+aiosqlite" not in url:
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


def _days(env: dict[str, str], name: str, default: int) -> int:
    """A whole number of days, at least one: a retention period of zero would erase at once."""
    value = int(env.get(name) or default)
    if value < 1:
        raise ValueError(f"{name} must be at least 1 (days), not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: f"sqlite+aiosqlite:///{Path('var/allmenning.db').resolve()}")
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    mail_dir: Path = field(default_factory=lambda: Path("var/mail").resolve())
    mail_from: str = "Allmenning <post@allmenning.local>"
    scheduler: bool = True
    memo_seconds: float = 5.0
    # Proxies whose X-Forwarded-Proto/For the server believes (so a request that came over https is known as such).
    forwarded_allow_ips: str = "127.0.0.1"
    # Retention (oversight.rules reads them; the privacy page says them): how long, in days.
    inactive_after_days: int = 3 * 365  # no sign-in for this long: warned by mail
    erase_after_warning_days: int = 30  # warned and still not signed in: erased
    unused_account_days: int = 7  # an account whose sign-in link was never followed, holding nothing: removed
    mail_kept_days: int = 90  # what a sent or failed mail said
    spent_credentials_days: int = 30  # used, revoked or expired sign-in links, sessions and tokens

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        defaults = cls()
        return cls(
            database_url=async_database_url(env.get("ALLMENNING_DATABASE_URL") or defaults.database_url),
            base_url=(env.get("ALLMENNING_BASE_URL") or defaults.base_url).rstrip("/"),
            smtp_url=env.get("ALLMENNING_SMTP_URL") or None,
            mail_dir=Path(env["ALLMENNING_MAIL_DIR"]).resolve() if env.get("ALLMENNING_MAIL_DIR") else defaults.mail_dir,
            mail_from=env.get("ALLMENNING_MAIL_FROM") or defaults.mail_from,
            scheduler=env.get("ALLMENNING_SCHEDULER", "on").lower() not in {"0", "off", "false", "no"},
            memo_seconds=float(env.get("ALLMENNING_MEMO_SECONDS") or defaults.memo_seconds),
            forwarded_allow_ips=env.get("ALLMENNING_FORWARDED_ALLOW_IPS") or defaults.forwarded_allow_ips,
            inactive_after_days=_days(env, "ALLMENNING_INACTIVE_AFTER_DAYS", defaults.inactive_after_days),
            erase_after_warning_days=_days(env, "ALLMENNING_ERASE_AFTER_WARNING_DAYS", defaults.erase_after_warning_days),
            unused_account_days=_days(env, "ALLMENNING_UNUSED_ACCOUNT_DAYS", defaults.unused_account_days),
            mail_kept_days=_days(env, "ALLMENNING_MAIL_KEPT_DAYS", defaults.mail_kept_days),
            spent_credentials_days=_days(env, "ALLMENNING_SPENT_CREDENTIALS_DAYS", defaults.spent_credentials_days),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
