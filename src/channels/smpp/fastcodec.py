"""Compiled per-command encoders and decoders, generated from :data:`channels.smpp.pdu.BODIES`.

The table-driven codec in ``pdu.py`` walks a command's field list and dispatches on each field's
kind: clear, but on this class of machine ~25 µs per submit_sm, which would cap a client near the
speed of smpplib. Here the same table is turned, once at import, into one straight-line Python
function per command (the technique ``dataclasses`` and ``attrs`` use): runs of 1-octet integers
become one ``bytes((...))``, C-Octet strings one ``encode`` + NUL, no per-field calls or lookups.

The generated functions handle only well-formed input. On any exception they return ``None`` /
re-raise, and ``pdu.py`` falls back to the table walk, which produces the precise
:class:`~channels.smpp.pdu.PduError` naming the field. So there is one definition of the format
(the table) and one of the error handling (the walk); this module is only speed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Encoder = Callable[[Mapping[str, Any]], bytes]
Decoder = Callable[[bytes, int, dict[str, Any]], int]


def _cstr(value: Any, size: int) -> bytes:
    raw = value.encode("latin-1") if value.__class__ is str else bytes(value)
    if len(raw) >= size:
        raise ValueError("too long")
    return raw + b"\x00"


def _sm(value: Any) -> bytes:
    if len(value) > 254:
        raise ValueError("too long")
    return bytes((len(value),)) + bytes(value)


def compile_encoder(fields: list[tuple[str, str, int]]) -> Encoder | None:
    """``fields``: (name, kind, size) with kind in {"c", "i", "sm"}; None if a kind is not simple."""
    exprs: list[str] = []
    ints: list[str] = []

    def flush_ints() -> None:
        if ints:
            exprs.append("bytes((" + "".join(f"g({n!r}) or 0, " for n in ints) + "))")
            ints.clear()

    for name, kind, size in fields:
        if kind == "i":
            ints.append(name)
            continue
        flush_ints()
        if kind == "c":
            # empty (the usual service_type, schedule, validity): the lone NUL, no call
            exprs.append(f"(_cstr(v, {size}) if (v := g({name!r})) else b'\\x00')")
        elif kind == "sm":
            exprs.append(f"_sm(g({name!r}) or b'')")
        else:
            return None
    flush_ints()
    src = (
        "def enc(p):\n    g = p.get\n    return b''.join(("
        + ", ".join(exprs)
        + ("," if exprs else "")
        + "))\n"
    )
    namespace: dict[str, Any] = {"_cstr": _cstr, "_sm": _sm}
    exec(compile(src, "<smpp-encoder>", "exec"), namespace)
    fn: Encoder = namespace["enc"]
    return fn


def compile_decoder(fields: list[tuple[str, str, int]]) -> Decoder | None:
    lines = ["def dec(d, pos, out):"]
    for name, kind, size in fields:
        if kind == "c":
            lines.append(f"    i = d.index(0, pos, pos + {size})")
            lines.append(f"    out[{name!r}] = d[pos:i].decode('latin-1')")
            lines.append("    pos = i + 1")
        elif kind == "i":
            lines.append(f"    out[{name!r}] = d[pos]")
            lines.append("    pos += 1")
        elif kind == "sm":
            lines.append("    n = d[pos]")
            lines.append("    end = pos + 1 + n")
            lines.append("    if end > len(d): raise IndexError")
            lines.append(f"    out[{name!r}] = d[pos + 1:end]")
            lines.append("    pos = end")
        else:
            return None
    lines.append("    return pos")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines) + "\n", "<smpp-decoder>", "exec"), namespace)
    fn: Decoder = namespace["dec"]
    return fn
