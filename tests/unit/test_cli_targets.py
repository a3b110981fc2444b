"""Target files and row building for ``telco-channels send``: formats, line numbers, templates,
content limits, stable message ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.cli.targets import (
    ContentSpec,
    RowBuilder,
    RowError,
    TargetFile,
    TargetRow,
    Template,
    message_id,
)
from channels.content import IvrScript, Mms, Text, UssdMenu, WapPush
from channels.errors import ConfigurationError
from channels.message import ChannelKind, Message
from throttle.numbers import Numbers


def write(tmp_path: Path, text: str, name: str = "t.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rows(path: Path, **kw: str) -> list[TargetRow | RowError]:
    return list(TargetFile(path, **kw))


def test_csv_rows_keep_their_file_line_even_after_blank_lines_and_multiline_fields(tmp_path: Path) -> None:
    path = write(tmp_path, 'msisdn,name\n\n+8613800000001,"Li\nWei"\n8613800000002,Ann\n')
    got = rows(path)
    assert [r.line for r in got] == [3, 5]
    first = got[0]
    assert isinstance(first, TargetRow)
    assert first.msisdn == "+8613800000001"
    assert first.fields["name"] == "Li\nWei"


def test_header_is_found_in_any_case_with_any_common_delimiter_and_a_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffName;MSISDN;plan\nAnn;8613800000001;10GB\n")
    targets = TargetFile(path)
    assert targets.is_csv
    assert targets.columns == ("Name", "msisdn", "plan")
    (row,) = rows(path)
    assert isinstance(row, TargetRow)
    assert row.fields == {"Name": "Ann", "msisdn": "8613800000001", "plan": "10GB"}


def test_a_short_row_is_a_row_error_naming_its_line_and_the_rest_goes_on(tmp_path: Path) -> None:
    path = write(tmp_path, "msisdn,name\n8613800000001\n8613800000002,Bo\n")
    bad, good = rows(path)
    assert isinstance(bad, RowError)
    assert (bad.line, bad.msisdn) == (2, "8613800000001")
    assert "1 columns" in bad.reason and "2" in bad.reason
    assert isinstance(good, TargetRow) and good.line == 3


def test_plain_text_files_have_one_number_per_line_with_comments(tmp_path: Path) -> None:
    path = write(tmp_path, "# exported 2026-01-05\n+86 138 0000 0001\n\n8613800000002\n", "t.txt")
    got = rows(path)
    assert not TargetFile(path).is_csv
    assert [(r.line, r.msisdn) for r in got] == [(2, "+86 138 0000 0001"), (4, "8613800000002")]


def test_a_header_without_msisdn_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "phone,name\n8613800000001,Ann\n")
    with pytest.raises(ConfigurationError, match=r"t\.csv.*msisdn"):
        TargetFile(path)


def test_other_encodings_are_read_when_named(tmp_path: Path) -> None:
    path = write(tmp_path, "msisdn,name\n8613800000001,王芳\n", encoding="gbk")
    (row,) = rows(path, encoding="gbk")
    assert isinstance(row, TargetRow) and row.fields["name"] == "王芳"
    with pytest.raises(ConfigurationError, match="utf-8"):
        TargetFile(path, encoding="utf-8")


def test_templates_accept_plain_variables_and_escaped_braces() -> None:
    t = Template("Hi {name}, {{not a var}} {plan}")
    assert t.names == ("name", "plan")
    assert t.render({"name": "Ann", "plan": "10GB"}) == "Hi Ann, {not a var} 10GB"
    with pytest.raises(KeyError, match="plan"):
        t.render({"name": "Ann", "plan": ""})


@pytest.mark.parametrize("text", ["{name:>10}", "{name!r}", "{0}", "{}", "{a.b}", "{name"])
def test_templates_refuse_anything_but_plain_variables(text: str) -> None:
    with pytest.raises(ConfigurationError, match="--template"):
        Template(text)


def test_a_template_variable_missing_from_the_header_is_refused_before_any_row(tmp_path: Path) -> None:
    path = write(tmp_path, "msisdn,name\n8613800000001,Ann\n")
    builder = RowBuilder(kind=ChannelKind.SMS, campaign="c", spec=ContentSpec(body=Template("Hi {nmae}")))
    with pytest.raises(ConfigurationError, match=r"\{nmae\}.*columns: msisdn, name"):
        builder.check_columns(TargetFile(path))


def sms(template: str = "Hi {name}", max_sms_parts: int = 10) -> RowBuilder:
    spec = ContentSpec(body=Template(template), max_sms_parts=max_sms_parts)
    return RowBuilder(kind=ChannelKind.SMS, campaign="spring", spec=spec)


def test_rows_become_messages_with_e164_numbers_and_their_line() -> None:
    built = sms().build(TargetRow(7, "+86 138-0000-0001", {"msisdn": "+86 138-0000-0001", "name": "Ann"}))
    assert isinstance(built, Message)
    assert built.to == "8613800000001"
    assert built.content == Text(body="Hi Ann")
    assert built.campaign_id == "spring"
    assert built.metadata["line"] == "7"


@pytest.mark.parametrize(
    ("msisdn", "reason"),
    [("abc", "is not a phone number"), ("12345", "5 digits"), ("+1234567890123456", "16 digits")],
)
def test_unusable_numbers_are_row_errors(msisdn: str, reason: str) -> None:
    built = sms().build(TargetRow(3, msisdn, {"msisdn": msisdn, "name": "Ann"}))
    assert isinstance(built, RowError)
    assert built.line == 3 and reason in built.reason and built.reason.startswith("msisdn")


def test_national_numbers_need_a_region() -> None:
    row = TargetRow(2, "13800138000", {"msisdn": "13800138000", "name": "Ann"})
    as_given = sms().build(row)
    assert isinstance(as_given, Message) and as_given.to == "13800138000"  # read as international
    cn = RowBuilder(kind=ChannelKind.SMS, campaign="c", spec=ContentSpec(body=Template("x")),
                    numbers=Numbers(default_region="CN"))  # fmt: skip
    built = cn.build(row)
    assert isinstance(built, Message) and built.to == "8613800138000"


def test_an_empty_variable_is_a_row_error_naming_it() -> None:
    built = sms().build(TargetRow(4, "8613800000001", {"msisdn": "8613800000001", "name": ""}))
    assert isinstance(built, RowError)
    assert built.reason == "template: no value for {name}"


def test_a_text_longer_than_the_part_limit_is_a_row_error() -> None:
    builder = sms("{name}", max_sms_parts=2)
    ok = builder.build(TargetRow(2, "8613800000001", {"msisdn": "8613800000001", "name": "a" * 306}))
    too_long = builder.build(TargetRow(3, "8613800000001", {"msisdn": "8613800000001", "name": "a" * 307}))
    assert isinstance(ok, Message)
    assert isinstance(too_long, RowError)
    assert too_long.reason.startswith("content") and "parts" in too_long.reason
    ucs2 = builder.build(TargetRow(4, "8613800000001", {"msisdn": "8613800000001", "name": "好" * 135}))
    assert isinstance(ucs2, RowError)  # 67 UCS-2 characters per part


def test_message_ids_depend_on_campaign_channel_number_and_columns_not_on_line_or_spelling() -> None:
    fields = {"msisdn": "+8613800000001", "name": "Ann"}
    a = message_id("spring", ChannelKind.SMS, "8613800000001", fields)
    assert a == message_id("spring", ChannelKind.SMS, "8613800000001", {**fields, "msisdn": "8613800000001"})
    assert a != message_id("summer", ChannelKind.SMS, "8613800000001", fields)
    assert a != message_id("spring", ChannelKind.MMS, "8613800000001", fields)
    assert a != message_id("spring", ChannelKind.SMS, "8613800000002", fields)
    assert a != message_id("spring", ChannelKind.SMS, "8613800000001", {**fields, "name": "Bo"})
    one = sms().build(TargetRow(2, "+8613800000001", fields))
    two = sms().build(TargetRow(90, "8613800000001", {**fields, "msisdn": "8613800000001"}))
    assert isinstance(one, Message) and isinstance(two, Message) and one.id == two.id == a


def test_every_channel_gets_its_content_type() -> None:
    row = TargetRow(2, "8613800000001", {"msisdn": "8613800000001", "name": "Ann"})
    body = Template("Hi {name}")
    specs = {
        ChannelKind.MMS: (ContentSpec(body=body, subject=Template("For {name}")), Mms),
        ChannelKind.WAP_PUSH: (ContentSpec(body=body, href=Template("http://x.cn/{name}")), WapPush),
        ChannelKind.IVR: (ContentSpec(body=body), IvrScript),
        ChannelKind.USSD: (ContentSpec(body=body), UssdMenu),
    }
    for kind, (spec, cls) in specs.items():
        built = RowBuilder(kind=kind, campaign="c", spec=spec).build(row)
        assert isinstance(built, Message) and isinstance(built.content, cls), kind
    mms = RowBuilder(kind=ChannelKind.MMS, campaign="c", spec=specs[ChannelKind.MMS][0]).build(row)
    assert isinstance(mms, Message) and isinstance(mms.content, Mms) and mms.content.subject == "For Ann"


def test_channel_limits_and_requirements_are_row_errors_or_configuration_errors() -> None:
    row = TargetRow(2, "8613800000001", {"msisdn": "8613800000001", "name": "x" * 200})
    ussd = RowBuilder(kind=ChannelKind.USSD, campaign="c", spec=ContentSpec(body=Template("{name}")))
    built = ussd.build(row)
    assert isinstance(built, RowError) and "USSD allows 182" in built.reason
    with pytest.raises(ConfigurationError, match="--href"):
        RowBuilder(kind=ChannelKind.WAP_PUSH, campaign="c", spec=ContentSpec(body=Template("hi")))


def test_a_template_without_variables_is_built_and_checked_once() -> None:
    builder = sms("Same text for all")
    a = builder.build(TargetRow(2, "8613800000001", {"msisdn": "8613800000001"}))
    b = builder.build(TargetRow(3, "8613800000002", {"msisdn": "8613800000002"}))
    assert isinstance(a, Message) and isinstance(b, Message)
    assert a.content is b.content
