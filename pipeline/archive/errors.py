"""The one exception the archive stage raises, so callers need not know the S3 SDK's exceptions."""


class ArchiveError(Exception):
    """A storage operation failed or the requested object/document does not exist."""


class NotFoundError(ArchiveError):
    """The object or document does not exist (a subclass, so ``except ArchiveError`` still catches it)."""
