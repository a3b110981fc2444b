"""Receipt correlation: gateway ids → our ``Message.id`` → one final state (PROTOCOLS.md §3.4-3.6).

Gateways answer a submit with one id per part and later report on each part, often spelling the id
differently (hex vs decimal, leading zeros, case). The tracker stores each part under normalised
keys, holds receipts that overtake their submit response (parked for ``early_ttl``), folds the parts
of a multipart message (final when every part is; worst state wins), emits the final state exactly
once, and turns silence into ``timeout_state`` after ``receipt_timeout``. It is pure (``now`` is an
argument); the Dispatcher drives it. State sits behind :class:`ReceiptStore` so it can outlive a
process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from channels.message import ChannelKind
from channels.results import STATE_SEVERITY, DeliveryReceipt, DeliveryState, SendResult


class IdProfile(StrEnum):
    """How a gateway spells the same message id in its response and in its receipts (Kannel
    ``msg-id-type``, Jasmin ``dlr_msg_id_bases``)."""

    EXACT = "exact"  # compare as given
    CASELESS = "caseless"  # upper-case, strip leading zeros (Jasmin's default normalisation)
    RESP_HEX_DLR_DEC = "resp-hex-dlr-dec"
    RESP_DEC_DLR_HEX = "resp-dec-dlr-hex"
    AUTO = "auto"  # caseless, and also try the hex↔decimal twin


# Members used per receipt, as module names (an enum member costs an attribute lookup per use).
_CASELESS = IdProfile.CASELESS
_ACCEPTED = DeliveryState.ACCEPTED


def _caseless(remote_id: str) -> str:
    s = remote_id.strip().upper().lstrip("0")
    return s or "0"


def _hex_to_dec(remote_id: str) -> str | None:
    try:
        return str(int(remote_id.strip(), 16))
    except ValueError:
        return None


def _dec_to_hex(remote_id: str) -> str | None:
    s = remote_id.strip()
    return format(int(s), "X") if s.isdigit() else None


def submit_keys(profile: IdProfile, remote_id: str) -> tuple[str, ...]:
    """Keys a submitted part is stored under."""
    if profile is IdProfile.EXACT:
        return (remote_id,)
    base = _caseless(remote_id)
    if profile is IdProfile.RESP_HEX_DLR_DEC:
        twin = _hex_to_dec(remote_id)
        return (twin,) if twin is not None else (base,)
    if profile is IdProfile.RESP_DEC_DLR_HEX:
        twin = _dec_to_hex(remote_id)
        return (twin,) if twin is not None else (base,)
    return (base,)


def receipt_keys(profile: IdProfile, remote_id: str) -> tuple[str, ...]:
    """Keys to look a receipt's id up under, most specific first."""
    if profile is IdProfile.EXACT:
        return (remote_id,)
    base = _caseless(remote_id)
    if profile is IdProfile.RESP_HEX_DLR_DEC:
        return (base.lstrip("0") or "0",)
    if profile is IdProfile.RESP_DEC_DLR_HEX:
        return (base,)
    if profile is IdProfile.AUTO:
        keys = [base]
        for twin in (_hex_to_dec(remote_id), _dec_to_hex(remote_id)):
            if twin is not None and _caseless(twin) not in keys:
                keys.append(_caseless(twin))
        return tuple(keys)
    return (base,)


class PendingReceipt(NamedTuple):
    """A receipt as a gateway reported it, not yet a :class:`DeliveryReceipt`: what an adapter hands
    the Dispatcher (``SubscribableChannel.subscribe``'s ``receipts``) so that the common receipt, the
    final one of a tracked one-part message, is built once, already correlated
    (:meth:`ReceiptTracker.on_pending`), instead of built as read and copied with our id. A tuple
    costs a third of a frozen dataclass (4 against 13 thousand instructions). ``at`` is when the
    adapter received it (a receipt waiting for its message is held ``early_ttl`` from then)."""

    channel: ChannelKind
    state: DeliveryState
    remote_id: str
    at: datetime
    error_code: str | None
    detail: dict[str, Any]
    gateway: str

    def build(self) -> DeliveryReceipt:
        """The receipt as read (no message id), for a consumer that correlates it itself."""
        return _correlated(self, None, self.state, self.detail)


@dataclass(slots=True)
class Tracked:
    """One message awaiting its final state."""

    message_id: str
    channel: ChannelKind
    gateway: str
    remote_ids: tuple[str, ...]
    deadline: datetime
    part_states: dict[str, DeliveryState] = field(default_factory=dict)
    done: bool = False


class ReceiptStore(Protocol):
    """Where correlation state lives: memory here, SQLite in :mod:`channels.receipt_stores`, Redis in
    ``throttle.stores``. ``due`` claims what it returns (another process sharing the store does not
    get it too), so a timeout is reported once."""

    def add(self, tracked: Tracked, keys: list[tuple[str, str]]) -> None: ...

    def lookup(self, gateway: str, key: str) -> Tracked | None: ...

    def get(self, message_id: str) -> Tracked | None: ...

    def update(self, tracked: Tracked) -> None: ...

    def due(self, now: datetime) -> list[Tracked]: ...

    def remove(self, message_id: str) -> None: ...


class MemoryReceiptStore:
    """Dicts; the library default. Messages are tracked in the order they were accepted, and with
    one ``receipt_timeout`` that is also deadline order, so the once-a-second expiry check stops at
    the first message not yet due instead of scanning everything tracked."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], str] = {}
        self._by_id: dict[str, Tracked] = {}
        self._keys: dict[str, list[tuple[str, str]]] = {}

    def add(self, tracked: Tracked, keys: list[tuple[str, str]]) -> None:
        self._by_id[tracked.message_id] = tracked
        self._keys[tracked.message_id] = keys
        for k in keys:
            self._by_key[k] = tracked.message_id

    def lookup(self, gateway: str, key: str) -> Tracked | None:
        mid = self._by_key.get((gateway, key))
        return self._by_id.get(mid) if mid is not None else None

    def get(self, message_id: str) -> Tracked | None:
        return self._by_id.get(message_id)

    def update(self, tracked: Tracked) -> None:
        self._by_id[tracked.message_id] = tracked

    def due(self, now: datetime) -> list[Tracked]:
        out: list[Tracked] = []
        for tracked in self._by_id.values():
            if tracked.deadline > now:
                break
            if not tracked.done:
                out.append(tracked)
        return out

    def remove(self, message_id: str) -> None:
        self._by_id.pop(message_id, None)
        for k in self._keys.pop(message_id, []):
            self._by_key.pop(k, None)

    def __len__(self) -> int:
        return len(self._by_id)


def _correlated(
    receipt: DeliveryReceipt | PendingReceipt,
    message_id: str | None,
    state: DeliveryState,
    detail: Mapping[str, Any],
) -> DeliveryReceipt:
    """The receipt with our id (and the folded state): the one copy made per receipt (the only
    build of a PendingReceipt), with the constructor's keywords spelled out (``dataclasses.replace``
    looks every field up by name; a subclass, with fields of its own, takes that general way)."""
    if type(receipt) is not DeliveryReceipt and type(receipt) is not PendingReceipt:
        assert isinstance(receipt, DeliveryReceipt)
        return dataclasses.replace(receipt, message_id=message_id, state=state, detail=detail)
    return DeliveryReceipt(
        channel=receipt.channel,
        state=state,
        remote_id=receipt.remote_id,
        message_id=message_id,
        at=receipt.at,
        error_code=receipt.error_code,
        detail=detail,
        gateway=receipt.gateway,
    )


@dataclass(slots=True)
class _Parked:
    receipt: DeliveryReceipt | PendingReceipt
    until: datetime
    used: bool = False  # one receipt may be parked under several keys (hex/dec twins)


class ReceiptTracker:
    """Correlates receipts to messages. Pure: call with ``now``; it returns the events to emit."""

    def __init__(
        self,
        *,
        store: ReceiptStore | None = None,
        receipt_timeout: timedelta = timedelta(hours=72),
        timeout_state: DeliveryState = DeliveryState.EXPIRED,
        early_ttl: timedelta = timedelta(seconds=120),
        profiles: dict[str, IdProfile] | None = None,
        default_profile: IdProfile = IdProfile.CASELESS,
        max_parked: int = 100_000,
    ) -> None:
        self.store: ReceiptStore = store if store is not None else MemoryReceiptStore()
        self.receipt_timeout = receipt_timeout
        self.timeout_state = timeout_state
        self.early_ttl = early_ttl
        self.max_parked = max_parked
        self._profiles = dict(profiles or {})
        self._default_profile = default_profile
        self._timeout_states: dict[str, DeliveryState] = {}
        self._parked: dict[tuple[str, str], list[_Parked]] = {}

    def set_profile(self, gateway: str, profile: IdProfile) -> None:
        self._profiles[gateway] = profile

    def set_timeout_state(self, gateway: str, state: DeliveryState) -> None:
        """What silence means for this gateway: e.g. DELIVERED where only failures are reported
        (registered_delivery 2, jookies/jasmin#183)."""
        self._timeout_states[gateway] = state

    def adopt(self, channel: object) -> None:
        """Take a channel's receipt profile: its ``id_profile`` and, if it has one, its
        ``receipt_timeout_state`` (the Dispatcher calls this for each channel it is given)."""
        name = getattr(channel, "name", None)
        if not isinstance(name, str):
            return
        profile = getattr(channel, "id_profile", None)
        if isinstance(profile, IdProfile):
            self.set_profile(name, profile)
        state = getattr(channel, "receipt_timeout_state", None)
        if isinstance(state, DeliveryState):
            self.set_timeout_state(name, state)

    def _profile(self, gateway: str) -> IdProfile:
        return self._profiles.get(gateway, self._default_profile)

    def _keys(self, gateway: str, remote_ids: tuple[str, ...]) -> list[tuple[str, str]]:
        profile = self._profiles.get(gateway, self._default_profile)
        if profile is _CASELESS:  # the default: one key per id (submit_keys, inlined)
            if len(remote_ids) == 1:  # one part: no comprehension
                return [(gateway, _caseless(remote_ids[0]))]
            return [(gateway, _caseless(rid)) for rid in remote_ids]
        return [(gateway, k) for rid in remote_ids for k in submit_keys(profile, rid)]

    def register(self, gateway: str, result: SendResult, now: datetime) -> list[DeliveryReceipt]:
        """Track an accepted message; returns receipts for it that had arrived early."""
        tracked = Tracked(
            message_id=result.message_id,
            channel=result.channel,
            gateway=gateway,
            remote_ids=result.remote_ids,
            deadline=now + self.receipt_timeout,
        )
        keys = self._keys(gateway, result.remote_ids)
        self.store.add(tracked, keys)
        out: list[DeliveryReceipt] = []
        if not self._parked:  # the common case when receipts come later than their submit response
            return out
        for key in keys:
            for parked in self._parked.pop(key, ()):
                if not parked.used:  # one receipt may be parked under several keys (twins)
                    parked.used = True
                    out.extend(self._apply(tracked, key[1], parked.receipt))
        return out

    def on_receipt(self, receipt: DeliveryReceipt, now: datetime) -> list[DeliveryReceipt]:
        """Correlate one receipt; returns what to emit (nothing if parked or a duplicate)."""
        gateway = receipt.gateway or receipt.channel.value
        if receipt.message_id is not None:
            tracked = self.store.get(receipt.message_id)
            if tracked is None:
                # Adapters that know our id (IVR, USSD) report without registering parts.
                return [receipt]
            part = receipt.remote_id or tracked.remote_ids[0]
        else:
            if receipt.remote_id is None:
                return []
            tracked, part = self._find(gateway, receipt.remote_id)
            if tracked is None:
                self._park(gateway, receipt, now)
                return []
        return self._apply(tracked, part, receipt)

    def on_pending(self, pending: PendingReceipt) -> list[DeliveryReceipt]:
        """:meth:`on_receipt` for a receipt not built yet (an adapter's, with no message id): the
        same correlation, parking and folding, and the one receipt emitted is built once, with our
        id, where on_receipt's input was built as read and then copied."""
        tracked, part = self._find(pending.gateway, pending.remote_id)
        if tracked is None:
            self._park(pending.gateway, pending, pending.at)
            return []
        return self._apply(tracked, part, pending)

    def _find(self, gateway: str, remote_id: str) -> tuple[Tracked | None, str]:
        profile = self._profiles.get(gateway, self._default_profile)
        if profile is _CASELESS:  # one key (receipt_keys, inlined)
            key = _caseless(remote_id)
            return self.store.lookup(gateway, key), key
        for key in receipt_keys(profile, remote_id):
            tracked = self.store.lookup(gateway, key)
            if tracked is not None:
                return tracked, key
        return None, remote_id

    def _park(self, gateway: str, receipt: DeliveryReceipt | PendingReceipt, now: datetime) -> None:
        assert receipt.remote_id is not None
        parked = _Parked(receipt, now + self.early_ttl)
        for key in receipt_keys(self._profile(gateway), receipt.remote_id):
            self._parked.setdefault((gateway, key), []).append(parked)
        while len(self._parked) > self.max_parked:  # bounded: the oldest unmatched go first
            del self._parked[next(iter(self._parked))]

    def _apply(
        self, tracked: Tracked, part: str, receipt: DeliveryReceipt | PendingReceipt
    ) -> list[DeliveryReceipt]:
        if tracked.done:
            return []  # late receipts never reopen a final state (§3.6)
        state = receipt.state
        if state is _ACCEPTED:  # the one non-final state
            return [_correlated(receipt, tracked.message_id, state, receipt.detail)]
        detail = receipt.detail
        if len(tracked.remote_ids) > 1:
            states = tracked.part_states
            states[part] = state
            if len(states) < len(tracked.remote_ids):
                self.store.update(tracked)
                return []
            state = max(states.values(), key=STATE_SEVERITY.__getitem__)
            detail = {**detail, "parts": {k: v.value for k, v in states.items()}}
        else:
            tracked.part_states[part] = state
            if type(receipt) is not PendingReceipt:  # a pending receipt's detail is its own already
                detail = dict(detail)
        tracked.done = True
        self.store.remove(tracked.message_id)
        return [_correlated(receipt, tracked.message_id, state, detail)]

    def expire(self, now: datetime) -> list[DeliveryReceipt]:
        """Messages with no final receipt by their deadline → ``timeout_state``, once each."""
        out: list[DeliveryReceipt] = []
        for tracked in self.store.due(now):
            tracked.done = True
            self.store.remove(tracked.message_id)
            silence = self._timeout_states.get(tracked.gateway, self.timeout_state)
            # Parts that did report keep their state; the worst of those and the silence wins.
            state = max((*tracked.part_states.values(), silence), key=STATE_SEVERITY.__getitem__)
            detail: dict[str, Any] = {"reason": "receipt_timeout"}
            if len(tracked.remote_ids) > 1:
                detail["parts"] = {k: v.value for k, v in tracked.part_states.items()}
                detail["missing_parts"] = len(tracked.remote_ids) - len(tracked.part_states)
            out.append(
                DeliveryReceipt(
                    channel=tracked.channel,
                    state=state,
                    remote_id=tracked.remote_ids[0] if tracked.remote_ids else None,
                    message_id=tracked.message_id,
                    at=now,
                    gateway=tracked.gateway,
                    detail=detail,
                )
            )
        for key in [k for k, v in self._parked.items() if all(p.used or p.until <= now for p in v)]:
            del self._parked[key]
        return out

    @property
    def parked(self) -> int:
        return len({id(p) for v in self._parked.values() for p in v if not p.used})
