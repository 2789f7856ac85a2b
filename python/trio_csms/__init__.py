"""trio-csms: an OCPP 2.0.1 CSMS core on Trio.

The embedding API, re-exported here name by name; everything else is reached through its
module (`trio_csms.messages` for the OCPP types, `trio_csms.events` for domain events).

Layers, in the direction data flows (socket -> frame -> message -> handler -> store -> answer):

- `messages`: msgspec Structs for every OCPP 2.0.1 request, response, datatype, enum.
- `rpc`: the sans-IO OCPP-J layer: the frame codec (Rust, with a pure-Python twin) and
  `RpcSession`, one connection's RPC state machine. It never touches a socket.
- `handlers`: one module per functional block, a handler for every CALL a station sends.
- `store`: the storage contract and its SQLite engine.
- `station`, `server`: one station's connection; the websocket endpoint and its handshake.
- `csms`: `Csms`, all of it as one object to start in your own nursery.
"""

from .config import Config as Config
from .config import ConfigError as ConfigError
from .config import load_config as load_config
from .csms import Csms as Csms
from .errors import CallError as CallError
from .errors import CallRefused as CallRefused
from .errors import CallTimeout as CallTimeout
from .errors import ConnectionLost as ConnectionLost
from .errors import CsmsError as CsmsError
from .errors import InvalidResponse as InvalidResponse
from .errors import StationNotConnected as StationNotConnected
from .handlers.context import Hooks as Hooks
from .tuning import collect_garbage as collect_garbage
from .tuning import freeze_startup_objects as freeze_startup_objects

__version__ = "0.1.0"
