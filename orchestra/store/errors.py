"""Errors a store raises. Messages are one line, meant for the operator."""


class StoreError(Exception):
    """A store operation failed."""


class StoreOpenError(StoreError):
    """The store cannot be opened (unwritable, corrupt, full, already in use)."""
