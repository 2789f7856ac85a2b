"""Typed OCPP 2.0.1 messages: a msgspec Struct for the request and response of all 64 actions.

Layout: one module per functional block (`provisioning` for block B, `authorization` for C, ...),
`datatypes` for the shared `...Type` classes, `enums` for the enumerations, all generated from
the JSON schemas by `tools/gen_messages.py`; `_base` holds what they share. Names are the
spec's: `BootNotificationRequest`, `IdTokenType`, `RegistrationStatusEnumType.Accepted`.
Python attributes are snake_case (`evse_id`), the wire keeps the spec's camelCase (`evseId`).

`ACTIONS` lists every action with its types and direction; `ACTION_BY_NAME` finds one by its
CALL `Action` name and `ACTION_BY_REQUEST` by its request type.
"""

from ._base import ActionSpec as ActionSpec
from ._base import CustomDataType as CustomDataType
from ._base import Direction as Direction
from ._base import Message as Message
from ._registry import ACTIONS as ACTIONS
from .authorization import *  # noqa: F403
from .availability import *  # noqa: F403
from .certificate_management import *  # noqa: F403
from .data_transfer import *  # noqa: F403
from .datatypes import *  # noqa: F403
from .diagnostics import *  # noqa: F403
from .display_message import *  # noqa: F403
from .enums import *  # noqa: F403
from .firmware_management import *  # noqa: F403
from .local_authorization_list import *  # noqa: F403
from .meter_values import *  # noqa: F403
from .provisioning import *  # noqa: F403
from .remote_control import *  # noqa: F403
from .reservation import *  # noqa: F403
from .security import *  # noqa: F403
from .smart_charging import *  # noqa: F403
from .tariff_and_cost import *  # noqa: F403
from .transactions import *  # noqa: F403

ACTION_BY_NAME: dict[str, ActionSpec] = {spec.action: spec for spec in ACTIONS}
ACTION_BY_REQUEST: dict[type[Message], ActionSpec] = {spec.request: spec for spec in ACTIONS}
