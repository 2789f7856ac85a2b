"""Functional block C, Authorization: Authorize, and the idToken decision TransactionEvent uses.

The decision (C01, C05, C09): the embedding application's authorizer hook if it gives one;
otherwise the id-token store. A token the store does not know is Unknown. NoAuthorization
tokens (an empty idToken, used where no authorization is needed) are Accepted (C-35). A token
limited to some EVSEs is NotAtThisLocation on another one. The answer carries the token's
groupIdToken (group and master-pass handling, TC_C_39, TC_C_47-49), cacheExpiryDateTime,
evseId list, language and personal message as stored.
"""

from __future__ import annotations

import logging

import msgspec

from ..messages import (
    AuthorizationStatusEnumType,
    AuthorizeRequest,
    AuthorizeResponse,
    IdTokenEnumType,
    IdTokenInfoType,
    IdTokenType,
    MessageContentType,
)
from ..store.base import IdTokenRecord
from .context import StationContext

log = logging.getLogger(__name__)

_GROUP = msgspec.json.Decoder(IdTokenType)
_MESSAGE = msgspec.json.Decoder(MessageContentType)


async def authorize(ctx: StationContext, req: AuthorizeRequest) -> AuthorizeResponse:
    """C01: the authorization status of an idToken."""
    info = await id_token_info(ctx, req.id_token, evse_id=None)
    return AuthorizeResponse(id_token_info=info)


async def id_token_info(
    ctx: StationContext, token: IdTokenType, *, evse_id: int | None
) -> IdTokenInfoType:
    """The IdTokenInfo for `token` used at `evse_id` (None: not known yet)."""
    if ctx.hooks.authorizer is not None:
        decided = await ctx.hooks.authorizer(ctx.station_id, token, evse_id)
        if decided is not None:
            return decided
    if token.type is IdTokenEnumType.NoAuthorization:
        return IdTokenInfoType(status=AuthorizationStatusEnumType.Accepted)
    record = await ctx.store.get_id_token(token.id_token, token.type.value)
    if record is None:
        log.info("%s idToken %s (%s) unknown", ctx.station_id, token.id_token, token.type.value)
        return IdTokenInfoType(status=AuthorizationStatusEnumType.Unknown)
    info = info_from_record(record)
    if evse_id is not None and record.evse_id is not None and evse_id not in record.evse_id:
        info.status = AuthorizationStatusEnumType.NotAtThisLocation
    return info


def info_from_record(record: IdTokenRecord) -> IdTokenInfoType:
    """The IdTokenInfo a stored token gives, field for field."""
    info = IdTokenInfoType(status=AuthorizationStatusEnumType(record.status))
    if record.group_id_token is not None:
        info.group_id_token = _GROUP.decode(msgspec.json.encode(record.group_id_token))
    if record.cache_expiry_date_time is not None:
        info.cache_expiry_date_time = record.cache_expiry_date_time
    if record.evse_id is not None:
        info.evse_id = list(record.evse_id)
    if record.language1 is not None:
        info.language1 = record.language1
    if record.personal_message is not None:
        info.personal_message = _MESSAGE.decode(msgspec.json.encode(record.personal_message))
    return info
