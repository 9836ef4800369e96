"""Web pages for residents, associations and staff: another api layer over the same services."""
