"""Target files and per-row content for ``telco-channels send``: read, render, check, identify.

Operators export targets from their analytics systems as CSV (a header with an ``msisdn`` column and
any variables the template uses, ``{name}`` style) or as plain text (one number per line); one seed
file had 4.7 million numbers (PROTOCOLS.md §9), so files are streamed row by row, never loaded whole,
and every row keeps the file line it started on for error reports. A :class:`RowBuilder` turns a row
into a :class:`~channels.message.Message`: the number normalised to E.164 digits, the template
rendered, the content checked against the channel's limits with the adapters' own pure codecs (SMS
parts, USSD string length, WAP push segments), and an id derived from campaign + channel + number +
row content, so a rerun or a resumed job gives every row the id it had before. A row that fails any
of this becomes a :class:`RowError` naming the line and the field; the rest of the file goes on.
"""

from __future__ import annotations

import csv
import hashlib
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from channels.content import (
    Content,
    IvrScript,
    IvrStep,
    Mms,
    Prompt,
    Slide,
    Text,
    UssdMenu,
    WapPush,
    WapPushKind,
)
from channels.errors import ChannelsError, ConfigurationError
from channels.message import ChannelKind, Message
from channels.smpp.concat import split
from channels.smpp.encoding import encode_text
from channels.ussd.menu import check_text
from channels.ussd.profile import STANDARD
from channels.wap.push import push_segments
from throttle.numbers import Numbers

MSISDN = "msisdn"
E164_MIN, E164_MAX = 6, 15  # ITU-T E.164 §6: at most 15 digits; shorter than 6 is no subscriber
_DELIMITERS = ",;\t|"


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One row: the file line it starts on, the number as written, and every column's value."""

    line: int
    msisdn: str
    fields: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that cannot be sent: its line, the number as written and why (naming the field)."""

    line: int
    msisdn: str
    reason: str


class TargetFile:
    """A CSV (header with ``msisdn``) or plain-text target file, iterated lazily.

    The format is taken from the first non-blank line: a header naming ``msisdn`` (any case,
    delimiter ``,`` ``;`` tab or ``|``) means CSV, anything else one number per line (``#``
    comments and blank lines skipped). ``encoding`` defaults to UTF-8 with an optional BOM.
    """

    def __init__(self, path: str | Path, *, encoding: str = "utf-8-sig") -> None:
        self.path = Path(path)
        self.encoding = encoding
        self.columns: tuple[str, ...] = ()
        self.delimiter: str | None = None
        header = self._first_line()
        delimiter = max(_DELIMITERS, key=header.count)
        cells = [c.strip() for c in next(csv.reader([header], delimiter=delimiter), [])]
        if any(c.casefold() == MSISDN for c in cells):
            self.delimiter = delimiter
            self.columns = tuple(MSISDN if c.casefold() == MSISDN else c for c in cells)
        elif header and not header.lstrip("+ ").replace(" ", "").replace("-", "")[:1].isdigit():
            raise ConfigurationError(
                f"{self.path}: the first line {header[:60]!r} is neither a number nor a CSV header with "
                f"an {MSISDN!r} column"
            )

    @property
    def is_csv(self) -> bool:
        return self.delimiter is not None

    def _open(self) -> IO[str]:
        try:
            return open(self.path, encoding=self.encoding, newline="")
        except OSError as exc:
            raise ConfigurationError(f"targets {self.path}: {exc.strerror or exc}") from exc
        except LookupError as exc:
            raise ConfigurationError(f"--encoding: {exc}") from exc

    def _first_line(self) -> str:
        with self._open() as f:
            try:
                for raw in f:
                    if raw.strip() and not raw.lstrip().startswith("#"):
                        return raw.strip("\r\n")
            except UnicodeDecodeError as exc:
                raise ConfigurationError(f"targets {self.path}: not {self.encoding} text ({exc})") from exc
        return ""

    def count_rows(self) -> int:
        """Lines after the header (for a progress bar): a byte scan, no decoding, no parsing."""
        lines = 0
        with open(self.path, "rb") as f:
            while chunk := f.read(1 << 20):
                lines += chunk.count(b"\n")
        return max(0, lines - (1 if self.is_csv else 0))

    def __iter__(self) -> Iterator[TargetRow | RowError]:
        return self._csv_rows() if self.is_csv else self._text_rows()

    def _text_rows(self) -> Iterator[TargetRow | RowError]:
        with self._open() as f:
            for line, raw in enumerate(f, 1):
                text = raw.strip()
                if text and not text.startswith("#"):
                    yield TargetRow(line, text, {MSISDN: text})

    def _csv_rows(self) -> Iterator[TargetRow | RowError]:
        with self._open() as f:
            reader = csv.reader(f, delimiter=self.delimiter or ",")
            columns, width, header_seen = self.columns, len(self.columns), False
            index = columns.index(MSISDN)
            end = 0  # the last physical line read so far: a record starts on the next one
            for cells in reader:
                start, end = end + 1, reader.line_num
                if not cells or (len(cells) == 1 and not cells[0].strip()) or cells[0].startswith("#"):
                    continue
                if not header_seen:
                    header_seen = True
                    continue
                if len(cells) != width:
                    msisdn = cells[index].strip() if index < len(cells) else ""
                    yield RowError(start, msisdn, f"row has {len(cells)} columns, the header has {width}")
                    continue
                values = dict(zip(columns, (c.strip() for c in cells), strict=True))
                yield TargetRow(start, values[MSISDN], values)


class Template:
    """A ``{name}`` template. Literal braces are doubled (``{{``); formats and indices are refused."""

    def __init__(self, text: str, *, source: str = "--template") -> None:
        self.text = text
        self.source = source
        self._pieces: list[tuple[str, str | None]] = []
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ConfigurationError(f"{source}: {exc} in {text[:60]!r}") from exc
        for literal, name, spec, conversion in parsed:
            if name is not None and (not name.isidentifier() or spec or conversion):
                shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
                shown = "{" + shown + "}"
                raise ConfigurationError(f"{source}: {shown} is not a plain {{column_name}} variable")
            self._pieces.append((literal, name))
        self.names: tuple[str, ...] = tuple(dict.fromkeys(n for _, n in self._pieces if n is not None))

    def check_columns(self, columns: tuple[str, ...], what: str) -> None:
        """Every variable must be a column of the target file (checked once, before any row)."""
        missing = [n for n in self.names if n not in columns]
        if missing:
            have = ", ".join(columns) if columns else f"only {MSISDN} (a plain list of numbers)"
            raise ConfigurationError(
                f"{self.source}: variable(s) {', '.join('{' + n + '}' for n in missing)} not in {what} "
                f"(columns: {have})"
            )

    def render(self, fields: Mapping[str, str]) -> str:
        """The text for one row; a missing or empty variable raises ``KeyError(name)``."""
        out: list[str] = []
        for literal, name in self._pieces:
            out.append(literal)
            if name is not None:
                value = fields.get(name)
                if not value:
                    raise KeyError(name)
                out.append(value)
        return "".join(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentSpec:
    """What a row's content is made of, per channel. ``body`` is the main template (SMS text, MMS
    slide text, WAP push text, IVR spoken text, USSD screen); the others are templates too."""

    body: Template
    subject: Template | None = None  # MMS subject
    href: Template | None = None  # WAP push link (required for wap_push)
    push_kind: WapPushKind = WapPushKind.SI
    max_sms_parts: int = 10

    def templates(self) -> list[Template]:
        return [t for t in (self.body, self.subject, self.href) if t is not None]


# A UCS-2 part holds 67 code units, and a character takes at most two (a surrogate pair), so a text
# this short fits ``max_parts`` whatever its characters: only longer ones are encoded to check.
_SURE_CHARS_PER_PART = 33


def _sms(spec: ContentSpec, text: str, fields: Mapping[str, str]) -> Content:
    if len(text) > _SURE_CHARS_PER_PART * spec.max_sms_parts:
        split(encode_text(text), max_parts=spec.max_sms_parts)  # ContentRejected when too long
    return Text(body=text)


def _mms(spec: ContentSpec, text: str, fields: Mapping[str, str]) -> Content:
    subject = spec.subject.render(fields) if spec.subject else None
    return Mms(subject=subject, slides=(Slide(text=text),))


def _wap(spec: ContentSpec, text: str, fields: Mapping[str, str]) -> Content:
    href = spec.href.render(fields) if spec.href is not None else ""
    push = WapPush(href=href, text=text, kind=spec.push_kind)
    push_segments(push)  # ContentRejected beyond the SMS segments a handset reassembles
    return push


def _ivr(spec: ContentSpec, text: str, fields: Mapping[str, str]) -> Content:
    return IvrScript(steps=(IvrStep(name="message", prompts=(Prompt(tts=text),), result="played"),))


def _ussd(spec: ContentSpec, text: str, fields: Mapping[str, str]) -> Content:
    check_text(text, "text", STANDARD)  # 182 GSM-7 / 80 UCS-2 characters
    return UssdMenu.notification(text)


_BUILDERS = {
    ChannelKind.SMS: _sms,
    ChannelKind.MMS: _mms,
    ChannelKind.WAP_PUSH: _wap,
    ChannelKind.IVR: _ivr,
    ChannelKind.USSD: _ussd,
}


def build_content(kind: ChannelKind, spec: ContentSpec, fields: Mapping[str, str]) -> Content:
    """Render ``spec`` for one row; KeyError(variable) or ChannelsError (too long, bad link)."""
    return _BUILDERS[kind](spec, spec.body.render(fields), fields)


def message_id(campaign: str, kind: ChannelKind, number: str, fields: Mapping[str, str]) -> str:
    """Stable id: campaign + channel + E.164 number + the row's other columns (not its line)."""
    extra = "\x1e".join(f"{k}={fields[k]}" for k in sorted(fields) if k != MSISDN)
    text = f"{campaign}\x1f{kind.value}\x1f{number}\x1f{extra}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass
class RowBuilder:
    """Row → Message, or RowError naming the line and the field at fault."""

    kind: ChannelKind
    campaign: str
    spec: ContentSpec
    sender: str | None = None
    numbers: Numbers = field(default_factory=Numbers)
    _static: Content | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.kind is ChannelKind.WAP_PUSH and self.spec.href is None:
            raise ConfigurationError("--href: a WAP push needs a link")
        self._varying = any(t.names for t in self.spec.templates())

    def check_columns(self, targets: TargetFile) -> None:
        columns = targets.columns or (MSISDN,)
        for template in self.spec.templates():
            template.check_columns(columns, str(targets.path))

    def build(self, row: TargetRow) -> Message | RowError:
        number = self.numbers.key(row.msisdn)
        if not number:
            return RowError(row.line, row.msisdn, f"{MSISDN}: {row.msisdn!r} is not a phone number")
        if not E164_MIN <= len(number) <= E164_MAX:
            return RowError(row.line, row.msisdn, f"{MSISDN}: {len(number)} digits is not a valid number")
        try:
            content = self._render(row.fields)
        except KeyError as exc:
            return RowError(row.line, row.msisdn, f"template: no value for {{{exc.args[0]}}}")
        except ChannelsError as exc:
            return RowError(row.line, row.msisdn, f"content: {exc}")
        return Message(
            to=number,
            kind=self.kind,
            content=content,
            sender=self.sender,
            campaign_id=self.campaign,
            id=message_id(self.campaign, self.kind, number, row.fields),
            metadata={"line": str(row.line)},  # where the row is, for the job and the report
        )

    def _render(self, fields: Mapping[str, str]) -> Content:
        if self._varying:
            return build_content(self.kind, self.spec, fields)
        if self._static is None:  # one content for every row: build and check it once
            self._static = build_content(self.kind, self.spec, fields)
        return self._static
