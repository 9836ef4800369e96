"""Seasons: applications, renewals, the seeded draw and its publication."""

from booking.seasons import lines as _lines  # noqa: F401  (registers the season lines with the waitlists' offers)
