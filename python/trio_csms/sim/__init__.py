"""A simulated OCPP 2.0.1 charging station, for integration tests and load benchmarks.

It speaks to a CSMS over a real websocket, from the outside: nothing here imports the CSMS
(`trio_csms.server`, `trio_csms.station`, handlers or store), so it can test any OCPP 2.0.1
CSMS. Built on the sans-IO layer `trio_csms.rpc` in the charging-station role.
"""

from .histogram import Bucket as Bucket
from .histogram import LatencyHistogram as LatencyHistogram
from .station import CallErrorRaised as CallErrorRaised
from .station import CallTimeout as CallTimeout
from .station import ConnectFailed as ConnectFailed
from .station import ConnectionClosed as ConnectionClosed
from .station import FrameRecord as FrameRecord
from .station import Handler as Handler
from .station import HandshakeRefused as HandshakeRefused
from .station import InvalidResponse as InvalidResponse
from .station import NoSubprotocol as NoSubprotocol
from .station import SimStation as SimStation
from .station import SimStationError as SimStationError
from .station import SimStationStatistics as SimStationStatistics
from .station import basic_auth as basic_auth
from .station import open_station as open_station
from .station import station_url as station_url
