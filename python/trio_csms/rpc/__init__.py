"""The sans-IO OCPP-J layer (Part 4): frames, typed payloads and the per-connection session.

Nothing here imports Trio or touches a socket, so the same code runs under the server, the
station simulator, unit tests and benchmarks.
"""

from .errors import ErrorCode as ErrorCode
from .errors import OcppError as OcppError
from .events import AnswerIgnored as AnswerIgnored
from .events import CallErrorReceived as CallErrorReceived
from .events import CallReceived as CallReceived
from .events import CallResponseInvalid as CallResponseInvalid
from .events import CallResultReceived as CallResultReceived
from .events import FrameRejected as FrameRejected
from .events import RpcEvent as RpcEvent
from .session import LocalProtocolError as LocalProtocolError
from .session import OutgoingCall as OutgoingCall
from .session import Role as Role
from .session import RpcSession as RpcSession
from .session import RpcStatistics as RpcStatistics
