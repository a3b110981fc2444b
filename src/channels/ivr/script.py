"""Checking an :class:`~channels.content.IvrScript` before a call is placed, and naming its media.

A script is a small graph of named steps (play prompts, gather DTMF, branch, hang up). A broken
graph (an unknown step name, an impossible branch) would only show mid-call, after the subscriber
answered, so it is refused up front with :class:`~channels.errors.ContentRejected` naming the field.
Prompts become ARI media URIs (``sound:``, ``recording:``, ``digits:``…, PROTOCOLS.md §7 ``play``);
ARI has no TTS scheme of its own, so text goes out as ``<tts_scheme>:<text>`` for the gateway's
speech module to resolve (UNVERIFIED: the scheme is configurable).
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.content import IvrScript, IvrStep, Prompt
from channels.errors import ContentRejected

DTMF_DIGITS = frozenset("0123456789*#ABCD")
MEDIA_SCHEMES = ("sound:", "recording:", "number:", "digits:", "characters:", "tone:")


@dataclass(frozen=True, slots=True)
class CompiledScript:
    """A checked script: steps by name and where to start."""

    script: IvrScript
    steps: dict[str, IvrStep]
    start: str
    on_machine: str | None


def _bad(field: str, why: str) -> ContentRejected:
    return ContentRejected(f"IvrScript.{field}: {why}", name="invalid-script")


def _check_target(steps: dict[str, IvrStep], field: str, target: str | None) -> None:
    if target is not None and target not in steps:
        raise _bad(field, f"unknown step {target!r}")


def _check_prompt(field: str, prompt: Prompt) -> None:
    if (prompt.sound is None) == (prompt.tts is None):
        raise _bad(field, "give exactly one of sound or tts")
    if not (prompt.sound or prompt.tts or "").strip():
        raise _bad(field, "empty prompt")


def _check_step(steps: dict[str, IvrStep], i: int, step: IvrStep) -> None:
    where = f"steps[{i}]"
    for j, prompt in enumerate(step.prompts):
        _check_prompt(f"{where}.prompts[{j}]", prompt)
    if step.max_digits < 1:
        raise _bad(f"{where}.max_digits", "must be >= 1")
    if not step.timeout > 0:
        raise _bad(f"{where}.timeout", "must be > 0")
    if step.retries < 0:
        raise _bad(f"{where}.retries", "must be >= 0")
    for key, target in step.branches.items():
        if not key or len(key) > step.max_digits or not set(key) <= DTMF_DIGITS - {"#"}:
            raise _bad(f"{where}.branches[{key!r}]", f"not 1..{step.max_digits} DTMF digits (without #)")
        _check_target(steps, f"{where}.branches[{key!r}]", target)
    _check_target(steps, f"{where}.default", step.default)
    _check_target(steps, f"{where}.next", step.next)


def compile_script(script: IvrScript) -> CompiledScript:
    """Check ``script``; raise ContentRejected naming the first bad field."""
    if not script.steps:
        raise _bad("steps", "empty")
    steps: dict[str, IvrStep] = {}
    for i, step in enumerate(script.steps):
        if not step.name:
            raise _bad(f"steps[{i}].name", "empty")
        if step.name in steps:
            raise _bad(f"steps[{i}].name", f"duplicate step {step.name!r}")
        steps[step.name] = step
    for i, step in enumerate(script.steps):
        _check_step(steps, i, step)
    start = script.start if script.start is not None else script.steps[0].name
    _check_target(steps, "start", start)
    _check_target(steps, "on_machine", script.on_machine)
    if not script.ring_timeout > 0:
        raise _bad("ring_timeout", "must be > 0")
    return CompiledScript(script, steps, start, script.on_machine)


def prompt_media(prompt: Prompt, tts_scheme: str = "tts") -> str:
    """The ARI media URI of a prompt: ``welcome`` → ``sound:welcome``; URIs pass unchanged."""
    if prompt.sound is not None:
        sound = prompt.sound.strip()
        return sound if sound.startswith(MEDIA_SCHEMES) else f"sound:{sound}"
    return f"{tts_scheme}:{(prompt.tts or '').strip()}"
