"""Errors a caller of the CSMS (embedding application or operator API) can get.

Each has one meaning, so callers can map them to answers (the HTTP API maps them to status
codes): the station is not there, it did not answer in time, it answered with a CALLERROR,
its answer was malformed, or the request may not be sent in its current state.
"""

from __future__ import annotations


class CsmsError(Exception):
    """Base of every error the CSMS raises to its callers."""


class StationNotConnected(CsmsError):
    """The station has no open connection to this CSMS."""


class ConnectionLost(CsmsError):
    """The station's connection closed while the CALL was queued or outstanding."""


class CallTimeout(CsmsError):
    """The station did not answer the CALL within its timeout; the CALL was abandoned."""


class CallRefused(CsmsError):
    """The CALL may not be sent now (e.g. the station's boot was not Accepted, B02/B03),
    or too many CALLs are already queued for the station."""


class CallError(CsmsError):
    """The station answered the CALL with a CALLERROR.

    Attributes:
        code: its errorCode; description: its errorDescription; details: its errorDetails.
    """

    def __init__(self, code: str, description: str, details: dict[str, object]) -> None:
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code
        self.description = description
        self.details = details


class InvalidResponse(CallError):
    """The station's answer broke the schema (code: the CALLERROR code we answered it with)."""


class ListenFailed(CsmsError):
    """A listening socket could not be opened (port in use, address not on this host): the
    CSMS cannot serve, and says which endpoint and why instead of a traceback."""
