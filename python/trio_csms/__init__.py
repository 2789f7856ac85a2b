"""trio-csms: an OCPP 2.0.1 CSMS core on Trio.

Layers, in the direction data flows (socket -> frame -> message -> handler -> store -> answer):

- `trio_csms.messages`: msgspec Structs for every OCPP 2.0.1 request, response, datatype, enum.
- `trio_csms.rpc`: the sans-IO OCPP-J layer: the frame codec (Rust, with a pure-Python twin)
  and `RpcSession`, one connection's RPC state machine. It never touches a socket.
"""

__version__ = "0.1.0"
