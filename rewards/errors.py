"""Errors of the rewards app (mapped to HTTP status by missions.errors.api_exception_handler)."""

from missions.errors import Conflict


class AlreadyClaimed(Conflict):
    code = "already_claimed"


class NotComplete(Conflict):
    code = "not_complete"


class ClaimExpired(Conflict):
    code = "claim_expired"
