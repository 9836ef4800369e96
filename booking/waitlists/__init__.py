"""Waiting lists and the offers that hold freed capacity."""
