"""Every table of every package, imported once so the metadata (and Alembic) sees them all."""

from booking import store as booking_store  # noqa: F401
from booking.seasons import room_store  # noqa: F401
from booking.seasons import store as season_store  # noqa: F401
from booking.waitlists import store as waitlist_store  # noqa: F401
from infra import audit, outbox, rate_limit  # noqa: F401  (the audit trail, the outbox table, the request counters)
from notifications import store as notifications_store  # noqa: F401
from people import store as people_store  # noqa: F401
from resources import store as resources_store  # noqa: F401
