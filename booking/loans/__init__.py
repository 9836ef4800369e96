"""Equipment loans: hand-over, return, overdue and kits."""
