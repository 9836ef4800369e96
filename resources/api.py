"""HTTP for the catalogue."""

ROUTES: list = []
