"""channels.frozen.fast_init: the same constructor as the generated one, only cheaper."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from channels import ChannelKind, DeliveryReceipt, DeliveryState, Message, SendResult, Sent, Text
from channels.frozen import fast_init

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def twin(cls: type[Any]) -> type[Any]:
    """The class as plain @dataclass makes it, with the generated __init__."""
    params = cls.__dataclass_params__
    namespace: dict[str, Any] = {"__annotations__": dict(cls.__annotations__)}
    if "__post_init__" in cls.__dict__:
        namespace["__post_init__"] = cls.__dict__["__post_init__"]
    plain = type(cls.__name__, (), namespace)
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            setattr(plain, f.name, field(default=f.default, kw_only=f.kw_only))
        elif f.default_factory is not dataclasses.MISSING:
            setattr(plain, f.name, field(default_factory=f.default_factory, kw_only=f.kw_only))
        else:
            setattr(plain, f.name, field(kw_only=f.kw_only))
    return dataclass(frozen=params.frozen, slots=True)(plain)


def shape(cls: type[Any]) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, repr(p.default)) for p in inspect.signature(cls.__init__).parameters.values()]


@fast_init
@dataclass(frozen=True, slots=True)
class Mixed:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)
    d: int = field(default=4, kw_only=True)
    e: dict[str, int] = field(default_factory=dict, kw_only=True)
    seen: list[str] = field(default_factory=list, kw_only=True)

    def __post_init__(self) -> None:
        self.seen.append(f"{self.a}{self.b}")


RECEIPT = dict(
    channel=ChannelKind.SMS, state=DeliveryState.DELIVERED, remote_id="ab", at=NOW, error_code="000"
)
RESULT = dict(message_id="m1", channel=ChannelKind.SMS, remote_ids=("ab",), accepted_at=NOW)


@pytest.mark.parametrize(
    ("cls", "args", "kwargs"),
    [
        (DeliveryReceipt, (), RECEIPT),
        (DeliveryReceipt, (), {**RECEIPT, "message_id": "m1", "detail": {"stat": "DELIVRD"}, "gateway": "g"}),
        (SendResult, (), RESULT),
        (SendResult, (), {**RESULT, "parts": 3}),
        (Sent, ("msg", "result"), {}),
        (Text, (), {"body": "hi"}),
        (Message, (), {"to": "+861380013", "kind": ChannelKind.SMS, "content": Text(body="x"), "id": "m1"}),
        (Mixed, (1,), {}),
        (Mixed, (1, "x", [2]), {"d": 5, "e": {"k": 1}}),
    ],
)
def test_the_constructor_is_the_generated_one(
    cls: type[Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    plain = twin(cls)
    assert shape(cls) == shape(plain)
    made, expected = cls(*args, **kwargs), plain(*args, **kwargs)
    assert [getattr(made, f.name) for f in dataclasses.fields(cls)] == [
        getattr(expected, f.name) for f in dataclasses.fields(plain)
    ]
    assert cls(*args, **kwargs) == made
    if cls is SendResult or cls is Sent:  # hashable (the others hold a dict or a list)
        assert hash(cls(*args, **kwargs)) == hash(made) == hash(expected)
    assert repr(made).split("(", 1)[1] == repr(expected).split("(", 1)[1]
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.__setattr__(dataclasses.fields(cls)[0].name, None)
    assert dataclasses.replace(made) == made


def test_defaults_factories_and_post_init_run_per_instance() -> None:
    one, two = Mixed(1), Mixed(2)
    assert one.c is not two.c and one.e is not two.e  # a fresh factory value each time
    assert one.seen == ["1b"] and two.seen == ["2b"]  # __post_init__ ran, once
    r1, r2 = DeliveryReceipt(**RECEIPT), DeliveryReceipt(**RECEIPT)
    assert r1.detail == {} and r1.detail is not r2.detail and r1.message_id is None
    with pytest.raises(TypeError):
        Mixed()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Mixed(1, 2, 3, 4)  # type: ignore[call-arg, misc]  # d is keyword-only
    with pytest.raises(TypeError):
        SendResult("m1", ChannelKind.SMS, ("ab",), NOW)  # type: ignore[misc]  # keyword-only


def test_message_validation_still_runs() -> None:
    with pytest.raises(ValueError, match="empty"):
        Message(to="", kind=ChannelKind.SMS, content=Text(body="x"))


def test_only_frozen_slotted_plain_fields_are_taken() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(slots=True)
    class NotFrozen:
        a: int

    @dataclass(frozen=True, slots=True)
    class WithInitVar:
        a: int
        b: InitVar[int]

    @dataclass(frozen=True, slots=True)
    class NotInInit:
        a: int
        b: int = field(default=0, init=False)

    for cls in (NoSlots, NotFrozen, WithInitVar, NotInInit):
        with pytest.raises(TypeError, match="fast_init"):
            fast_init(cls)
