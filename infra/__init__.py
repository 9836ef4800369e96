"""The ground floor: database, settings, errors, outbox writer, mail transports and time; it imports no domain."""
