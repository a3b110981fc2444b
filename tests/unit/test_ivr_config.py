"""IVR scripts checked up front, prompts as media URIs, gateway URLs, cause and AMD tables."""

from __future__ import annotations

import pytest

from channels.content import IvrScript, IvrStep, Prompt
from channels.errors import ConfigurationError, ContentRejected
from channels.ivr.causes import (
    DISPOSITION_RESULT,
    UNANSWERED_CAUSE,
    CallStatus,
    Disposition,
    answered_by,
    classify,
    is_machine,
)
from channels.ivr.script import compile_script, prompt_media
from channels.ivr.settings import IvrSettings
from channels.results import DeliveryState

ASK = IvrStep(name="ask", prompts=(Prompt(sound="q"),), branches={"1": "ok"})
OK = IvrStep(name="ok", result="ok")


def test_compile_finds_start_and_steps() -> None:
    compiled = compile_script(IvrScript(steps=(ASK, OK)))
    assert compiled.start == "ask" and set(compiled.steps) == {"ask", "ok"}
    assert compile_script(IvrScript(steps=(ASK, OK), start="ok")).start == "ok"


@pytest.mark.parametrize(
    ("script", "field"),
    [
        (IvrScript(steps=()), "IvrScript.steps: empty"),
        (IvrScript(steps=(ASK,)), r"IvrScript.steps\[0\].branches\['1'\]: unknown step 'ok'"),
        (IvrScript(steps=(ASK, OK, OK)), r"IvrScript.steps\[2\].name: duplicate"),
        (IvrScript(steps=(ASK, OK), start="nope"), "IvrScript.start: unknown step"),
        (IvrScript(steps=(ASK, OK), on_machine="vm"), "IvrScript.on_machine: unknown step"),
        (IvrScript(steps=(ASK, OK), ring_timeout=0), "IvrScript.ring_timeout"),
        (IvrScript(steps=(IvrStep(name="a", next="b"),)), r"steps\[0\].next: unknown step 'b'"),
        (IvrScript(steps=(IvrStep(name="a", default="b"),)), r"steps\[0\].default: unknown step"),
        (IvrScript(steps=(IvrStep(name="a", branches={"12": "a"}),)), r"branches\['12'\]: not 1..1 DTMF"),
        (IvrScript(steps=(IvrStep(name="a", branches={"#": "a"}),)), r"branches\['#'\]"),
        (IvrScript(steps=(IvrStep(name="a", max_digits=0),)), r"steps\[0\].max_digits"),
        (IvrScript(steps=(IvrStep(name="a", timeout=0),)), r"steps\[0\].timeout"),
        (IvrScript(steps=(IvrStep(name="a", retries=-1),)), r"steps\[0\].retries"),
        (IvrScript(steps=(IvrStep(name="", result="x"),)), r"steps\[0\].name: empty"),
        (IvrScript(steps=(IvrStep(name="a", prompts=(Prompt(),)),)), r"prompts\[0\]: give exactly one"),
        (IvrScript(steps=(IvrStep(name="a", prompts=(Prompt(sound="x", tts="y"),)),)), "exactly one"),
        (IvrScript(steps=(IvrStep(name="a", prompts=(Prompt(tts="  "),)),)), "empty prompt"),
    ],
)
def test_broken_scripts_are_refused_naming_the_field(script: IvrScript, field: str) -> None:
    with pytest.raises(ContentRejected, match=field):
        compile_script(script)


def test_prompt_media() -> None:
    assert prompt_media(Prompt(sound="welcome")) == "sound:welcome"
    assert prompt_media(Prompt(sound="sound:welcome")) == "sound:welcome"
    assert prompt_media(Prompt(sound="recording:greet")) == "recording:greet"
    assert prompt_media(Prompt(sound="digits:123")) == "digits:123"
    assert prompt_media(Prompt(tts="Press 1")) == "tts:Press 1"
    assert prompt_media(Prompt(tts="Press 1"), "synth") == "synth:Press 1"


def test_settings_from_url() -> None:
    s = IvrSettings.from_url(
        "ari+http://user:p%40ss@127.0.0.1:8088/ari?app=tc&endpoint=PJSIP/{number}@trunk&channels=30&cps=5"
        "&callerId=4000&timeout=25&name=ivr-a"
    )
    assert s.base_url == "http://127.0.0.1:8088/ari" and s.events_url == "http://127.0.0.1:8088/ari/events"
    assert (s.username, s.password, s.app, s.channels, s.cps) == ("user", "p@ss", "tc", 30, 5.0)
    assert (s.endpoint, s.caller_id, s.ring_timeout, s.name) == (
        "PJSIP/{number}@trunk",
        "4000",
        25.0,
        "ivr-a",
    )
    https = IvrSettings.from_url("ari+https://gw.example/ari/?api_key=a:b", channels=4)
    assert (https.base_url, https.username, https.password, https.channels) == (
        "https://gw.example:8088/ari",
        "a",
        "b",
        4,
    )


def test_settings_credentials_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARI_USERNAME", "env-user")
    monkeypatch.setenv("ARI_PASSWORD", "env-pass")
    s = IvrSettings.from_url("ari+http://127.0.0.1:9000")
    assert (s.username, s.password, s.base_url) == ("env-user", "env-pass", "http://127.0.0.1:9000/ari")


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("http://h/ari", "url: scheme"),
        ("ari+http:///ari", "url: no host"),
        ("ari+http://h:99999/ari", "url: bad port"),
        ("ari+http://h/ari?channels=x", "channels: 'x' is not an integer"),
        ("ari+http://h/ari?channels=0", "channels: must be >= 1"),
        ("ari+http://h/ari?cps=fast", "cps"),
        ("ari+http://h/ari?endpoint=PJSIP/x", "endpoint: 'PJSIP/x' has no {number}"),
        ("ari+http://h/ari?window=3", "unknown IVR URL parameter 'window'"),
        ("ari+http://h/ari?api_key=nocolon", "api_key"),
        ("ari+http://h/ari?request_timeout=0", "request_timeout: must be > 0"),
    ],
)
def test_bad_urls_name_the_field(url: str, field: str) -> None:
    with pytest.raises(ConfigurationError, match=field.replace("{", r"\{").replace("}", r"\}")):
        IvrSettings.from_url(url)


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="bogus"):
        IvrSettings.from_url("ari+http://h/ari", bogus=1)


def test_cause_tables_cover_protocols_md() -> None:
    expected = {
        17: Disposition.BUSY,
        18: Disposition.NO_ANSWER,
        19: Disposition.NO_ANSWER,
        21: Disposition.REJECTED,
        34: Disposition.CONGESTION,
        38: Disposition.CONGESTION,
        41: Disposition.CONGESTION,
        1: Disposition.FAILED,
        3: Disposition.FAILED,
        20: Disposition.FAILED,
        27: Disposition.FAILED,
    }
    assert {c: UNANSWERED_CAUSE[c] for c in expected} == expected
    assert set(DISPOSITION_RESULT) == set(Disposition)
    assert {s for s, _ in DISPOSITION_RESULT.values()} == set(CallStatus)
    assert classify(answered=True, canceled=False, cause=38) is Disposition.ANSWERED
    assert classify(answered=False, canceled=True, cause=16) is Disposition.CANCELED
    assert classify(answered=False, canceled=False, cause=None) is Disposition.UNKNOWN
    assert DISPOSITION_RESULT[Disposition.REJECTED] == (CallStatus.FAILED, DeliveryState.REJECTED)


def test_answered_by_from_amd() -> None:
    assert [answered_by(v) for v in ("HUMAN", "MACHINE", "NOTSURE", "machine_end_beep", "odd", None)] == [
        "human",
        "machine_start",
        "unknown",
        "machine_end_beep",
        "unknown",
        None,
    ]
    assert is_machine("machine_start") and is_machine("fax") and not is_machine("human")
    assert not is_machine(None)
