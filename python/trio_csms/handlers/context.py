"""What a handler gets: the station, the store, the configuration, and a way to call back.

Handlers never import `station` or `server`; they see the connection only through
`StationContext`. A handler must not await a CALL to its own station while answering (the
answer would wait for the call and the call for the reader that runs the handler); it schedules
follow-up work with `after_answer`, which runs once the answer is on the wire, as libocpp's
answer-before-act rule does (so, e.g., a CertificateSigned cannot overtake the
SignCertificateResponse it follows).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ..config import Config
from ..events import DomainEvent
from ..messages import (
    DataTransferRequest,
    DataTransferResponse,
    IdTokenInfoType,
    IdTokenType,
    Message,
)
from ..store.base import Store, TransactionRecord

Authorizer = Callable[[str, IdTokenType, int | None], Awaitable[IdTokenInfoType | None]]
"""An embedding application's authorization decision: (station id, id token, evse id or None)
-> the IdTokenInfo to answer, or None to let the CSMS decide from its id-token store."""

VendorHandler = Callable[[str, DataTransferRequest], Awaitable[DataTransferResponse]]
"""Answers a DataTransfer for one vendorId: (station id, request) -> response."""


EventSink = Callable[[DomainEvent], None]
"""Receives domain events; must not block (see `trio_csms.events`)."""


@dataclass
class Hooks:
    """Where an embedding application plugs in. Every hook is optional.

    Attributes:
        authorizer: decides Authorize and the idToken checks in TransactionEvent.
        vendors: DataTransfer handlers by vendorId; others get UnknownVendorId.
        events: receives domain events (must not block: hand them to a channel).
    """

    authorizer: Authorizer | None = None
    vendors: dict[str, VendorHandler] = field(default_factory=dict)
    events: EventSink | None = None


class CsrSigner(Protocol):
    """Signs a station's certificate signing request (A02/A03), e.g. `security.ca`."""

    def sign_csr(self, csr_pem: str, *, station_id: str) -> str:
        """The PEM chain for the CSR. Raises ValueError when the CSR is not acceptable."""
        ...


class CallSender(Protocol):
    """Sends CSMS-initiated CALLs to one station (implemented by the station connection)."""

    # The timeout belongs to the OCPP CALL (Part 4 §4.1.1): when it passes, the CALL is
    # abandoned in the RPC session, which a caller-side cancel scope alone would not do.
    async def call(self, request: Message, timeout: float | None = None) -> Message: ...  # noqa: ASYNC109

    def after_answer(self, work: Callable[[], Awaitable[None]]) -> None: ...


class _Unbound:
    """The sender of a context whose connection has not bound itself yet (a bug if used)."""

    # The timeout mirrors CallSender.call; it is never used here.
    async def call(self, request: Message, timeout: float | None = None) -> Message:  # noqa: ASYNC109
        raise RuntimeError("no connection is bound to this StationContext")

    def after_answer(self, work: Callable[[], Awaitable[None]]) -> None:
        raise RuntimeError("no connection is bound to this StationContext")


@dataclass
class Registration:
    """The boot state of the station on this connection (B01-B03).

    Attributes:
        status: what its last BootNotification was answered: "Accepted", "Pending",
            "Rejected", or None before any (a known station reconnecting keeps its stored one).
        triggered: actions we asked it to send with TriggerMessage while it is not Accepted;
            those are allowed even while Pending (Part 2 FR.04 note).
        report_request_id: the requestId of the onboarding GetBaseReport still awaited.
    """

    status: str | None = None
    triggered: set[str] = field(default_factory=set)
    report_request_id: int | None = None


class RunningTransactions:
    """This connection's running transactions as last stored, so that each TransactionEvent
    does not read its transaction back from the store (a read per event was a tenth of the
    server's time on the session mix).

    The store stays the truth: an entry is dropped whenever memory and store may differ (a
    write that failed or was a retransmission), once the transaction ends (late events read it
    back), and beyond `LIMIT` entries (a station runs one transaction per EVSE).
    """

    LIMIT = 16

    def __init__(self) -> None:
        self._records: dict[str, TransactionRecord] = {}

    def get(self, transaction_id: str) -> TransactionRecord | None:
        return self._records.get(transaction_id)

    def stored(self, transaction: TransactionRecord) -> None:
        """`transaction` is now what the store holds."""
        key = transaction.transaction_id
        self._records.pop(key, None)  # re-insert: the dict's order is the order of use
        if transaction.active:
            self._records[key] = transaction
            if len(self._records) > self.LIMIT:
                del self._records[next(iter(self._records))]

    def forget(self, transaction_id: str) -> None:
        self._records.pop(transaction_id, None)


@dataclass
class StationContext:
    """Everything a handler may use for one station connection.

    Attributes:
        station_id: the station's identity.
        store: persistent state; every write is committed when its await returns.
        config: the CSMS configuration.
        hooks: the embedding application's hooks.
        registration: the station's boot state on this connection.
        sender: sends CALLs to the station (use `after_answer` inside a handler); the
            station connection binds itself here when it starts.
        ca: signs certificate signing requests; None when no CA is configured.
        clock: current time (UTC); tests replace it.
        transactions: this connection's running transactions as last stored.
    """

    station_id: str
    store: Store
    config: Config
    hooks: Hooks
    registration: Registration
    sender: CallSender = field(default_factory=_Unbound)
    ca: CsrSigner | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    transactions: RunningTransactions = field(default_factory=RunningTransactions)

    def now(self) -> datetime:
        return self.clock()

    def after_answer(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` once the current CALL's answer has been sent."""
        self.sender.after_answer(work)

    def emit(self, event: DomainEvent) -> None:
        if self.hooks.events is not None:
            self.hooks.events(event)
