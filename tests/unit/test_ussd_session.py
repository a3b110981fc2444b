"""The pure USSD session machine and menu compiler (issue 8): every transition, timeouts by `now`."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from channels import ContentRejected, DeliveryState, UssdMenu, UssdScreen
from channels.ussd.menu import CompiledMenu, compile_menu, release_menu
from channels.ussd.profile import STANDARD, Outbound
from channels.ussd.session import Answered, Finished, Outcome, Phase, Push, Timers, UssdSession

MENU = UssdMenu(
    screens=(
        UssdScreen(
            name="main",
            text="1. Subscribe 10 yuan/month\n2. Details\n0. Exit",
            options={"1": "plan", "2": "details", "0": "=exit"},
        ),
        UssdScreen(name="plan", text="1. Monthly\n2. Yearly", options={"1": "confirm", "2": "confirm"}),
        UssdScreen(name="confirm", text="Y to confirm, N to cancel", options={"Y": "=subscribed", "n": "=n"}),
        UssdScreen(name="details", text="10 yuan per month, cancel any time.", result="details-read"),
    ),
    end_text="Thank you",
)
T0 = 1000.0


def compiled(menu: UssdMenu = MENU) -> CompiledMenu:
    return compile_menu(menu, STANDARD)


def session(menu: UssdMenu = MENU, **kw: object) -> UssdSession:
    timers = Timers(screen_timeout=30.0, session_timeout=180.0, max_invalid=1)
    return UssdSession(compiled(menu), timers=kw.pop("timers", timers), **kw)  # type: ignore[arg-type]


def only_push(outputs: Sequence[object]) -> Push:
    pushes = [o for o in outputs if isinstance(o, Push)]
    assert len(pushes) == 1
    return pushes[0]


def finished(outputs: Sequence[object]) -> Finished:
    assert isinstance(outputs[-1], Finished)
    return outputs[-1]


# -- menu compiler -------------------------------------------------------------------------------


def test_gsm_limit_is_182_characters_with_extension_characters_counting_two() -> None:
    ok = UssdMenu.notification("x" * 182)
    assert compile_menu(ok, STANDARD).first.encoded.units == 182
    message = r"screens\[0\] 'notice'.text: text is 183 GSM-7 characters; USSD allows 182"
    with pytest.raises(ContentRejected, match=message):
        compile_menu(UssdMenu.notification("x" * 183), STANDARD)
    compile_menu(UssdMenu.notification("€" * 91), STANDARD)  # 182 septets
    with pytest.raises(ContentRejected, match="184 GSM-7"):
        compile_menu(UssdMenu.notification("€" * 92), STANDARD)


def test_ucs2_limit_is_80_characters() -> None:
    menu = compile_menu(UssdMenu.notification("订" * 80), STANDARD)
    assert menu.first.encoded.data_coding == 0x08
    assert menu.first.encoded.data == ("订" * 80).encode("utf-16-be")
    with pytest.raises(ContentRejected, match="81 UCS-2 characters; USSD allows 80"):
        compile_menu(UssdMenu.notification("订" * 81), STANDARD)


@pytest.mark.parametrize(
    ("menu", "message"),
    [
        (UssdMenu(screens=()), "no screens"),
        (UssdMenu(screens=(UssdScreen(name="a", text=""),)), r"screens\[0\] 'a'.text: text is empty"),
        (UssdMenu(screens=(UssdScreen(name="a", text="x"), UssdScreen(name="a", text="y"))), "duplicate"),
        (UssdMenu(screens=(UssdScreen(name="a", text="x", options={"1": "b"}),)), "no screen named 'b'"),
        (UssdMenu(screens=(UssdScreen(name="a", text="x", options={"1": "="}),)), "after '=' is empty"),
        (UssdMenu(screens=(UssdScreen(name="a", text="x", options={"Y": "=1", " y": "=2"}),)), "given twice"),
        (UssdMenu(screens=(UssdScreen(name="a", text="x"),), start="b"), "UssdMenu.start"),
        (UssdMenu(screens=(UssdScreen(name="a", text="x"),), end_text="z" * 183), "UssdMenu.end_text"),
    ],
)
def test_bad_menus_are_refused_naming_the_field(menu: UssdMenu, message: str) -> None:
    with pytest.raises(ContentRejected, match=message):
        compile_menu(menu, STANDARD)


def test_profile_limits_and_data_codings_apply() -> None:
    from dataclasses import replace

    strict = replace(STANDARD, max_gsm_chars=160, gsm_data_coding=0x0F)
    with pytest.raises(ContentRejected, match="USSD allows 160"):
        compile_menu(UssdMenu.notification("x" * 161), strict)
    assert compile_menu(UssdMenu.notification("hi"), strict).first.encoded.data_coding == 0x0F


# -- network-initiated menu ------------------------------------------------------------------------


def test_three_level_menu_to_a_result() -> None:
    s = session()
    first = only_push(s.start(T0))
    assert (first.kind, first.screen, first.step, first.end) == (Outbound.MENU, "main", 0, False)
    assert s.phase is Phase.WAITING
    assert s.accepted(T0 + 0.1) == []
    out = s.answer("1", T0 + 5)
    assert out[0] == Answered(text="1", screen="main", step=1, choice="1")
    assert only_push(out).screen == "plan" and only_push(out).step == 2
    out = s.answer(" 2 ", T0 + 9)
    assert only_push(out).screen == "confirm"
    out = s.answer("y", T0 + 12)
    end = only_push(out)
    assert (end.kind, end.screen, end.encoded.data, end.end) == (Outbound.END, None, b"Thank you", True)
    assert str(s.phase) == Phase.CLOSING and s.get_timer() is None
    done = finished(s.accepted(T0 + 12.5))
    assert done.outcome is Outcome.COMPLETED and done.state is DeliveryState.DELIVERED
    assert done.path == ("main", "plan", "confirm")
    assert done.answers == ("1", " 2 ", "y")
    assert (done.choice, done.result, done.duration, done.steps) == ("y", "subscribed", 12.5, 7)
    assert s.done and s.answer("1", T0 + 13) == [] and s.accepted(T0 + 14) == []


def test_answer_leading_to_a_final_screen_shows_it_and_ends() -> None:
    s = session()
    s.start(T0)
    end = only_push(s.answer("2", T0 + 1))
    assert (end.kind, end.screen) == (Outbound.END, "details")
    assert end.encoded.data.startswith(b"10 yuan")
    done = finished(s.accepted(T0 + 2))
    assert (done.result, done.path, done.choice) == ("details-read", ("main", "details"), "2")


def test_invalid_answer_reshows_the_screen_then_ends_invalid() -> None:
    s = session()
    s.start(T0)
    out = s.answer("7", T0 + 1)
    assert out[0] == Answered(text="7", screen="main", step=1, choice=None)
    again = only_push(out)
    assert (again.kind, again.screen, again.step) == (Outbound.MENU, "main", 2)
    out = s.answer("8", T0 + 2)
    release = only_push(out)
    assert release.end and release.encoded.data == b""
    done = finished(s.accepted(T0 + 3))
    assert done.outcome is Outcome.INVALID and done.state is DeliveryState.DELIVERED
    assert done.choice is None and done.answers == ("7", "8")


def test_screen_timeout_releases_the_dialogue_and_expires() -> None:
    s = session()
    s.start(T0)
    s.answer("1", T0 + 10)
    assert s.get_timer() == T0 + 40
    assert s.handle_timer(T0 + 39.9) == []
    out = s.handle_timer(T0 + 40)
    release = only_push(out)
    assert release.end and release.encoded.data == b""
    done = finished(out)
    assert done.outcome is Outcome.TIMEOUT and done.state is DeliveryState.EXPIRED
    assert done.reason == "no answer to screen 'plan'" and done.path == ("main", "plan")
    assert s.get_timer() is None and s.handle_timer(T0 + 100) == []


def test_whole_session_timeout_wins_over_the_screen_timer() -> None:
    s = session(timers=Timers(screen_timeout=30, session_timeout=50))
    s.start(T0)
    s.answer("1", T0 + 25)  # plan, screen deadline T0+55
    assert s.get_timer() == T0 + 50
    done = finished(s.handle_timer(T0 + 50))
    assert done.outcome is Outcome.SESSION_TIMEOUT and done.state is DeliveryState.EXPIRED


def test_abort_by_the_subscriber() -> None:
    s = session()
    s.start(T0)
    s.answer("1", T0 + 1)
    out = s.abort(T0 + 2)
    assert not [o for o in out if isinstance(o, Push)]  # the dialogue is already gone: no release
    done = finished(out)
    assert done.outcome is Outcome.ABORTED and done.state is DeliveryState.UNDELIVERABLE
    assert done.path == ("main", "plan") and done.choice == "1"
    assert s.abort(T0 + 3) == []


def test_abort_while_closing_is_ignored() -> None:
    s = session()
    s.start(T0)
    s.answer("0", T0 + 1)
    assert s.abort(T0 + 1.5) == []
    assert finished(s.accepted(T0 + 2)).result == "exit"


def test_refused_screen_fails_the_session() -> None:
    s = session()
    s.start(T0)
    s.answer("1", T0 + 1)
    done = finished(s.failed(T0 + 1.2, "ESME_RSYSERR", "0x8"))
    assert done.outcome is Outcome.FAILED and done.state is DeliveryState.UNDELIVERABLE
    assert done.error_code == "0x8" and s.failed(T0 + 2, "again") == []


def test_refused_final_screen_fails_the_session() -> None:
    s = session()
    s.start(T0)
    s.answer("0", T0 + 1)
    assert finished(s.failed(T0 + 2, "ESME_RSUBMITFAIL")).outcome is Outcome.FAILED


def test_close_releases_an_open_dialogue() -> None:
    s = session()
    s.start(T0)
    out = s.close(T0 + 1)
    assert only_push(out).end
    assert finished(out).state is DeliveryState.UNKNOWN
    assert s.close(T0 + 2) == []
    fresh = session()
    out = fresh.close(T0)
    assert len(out) == 1 and finished(out).outcome is Outcome.CLOSED  # nothing was sent: no release


# -- notifications (USSN) --------------------------------------------------------------------------


def test_notification_is_a_ussn_confirmed_by_the_handset() -> None:
    s = session(UssdMenu.notification("Your bonus: 100 MB"))
    push = only_push(s.start(T0))
    assert (push.kind, push.screen) == (Outbound.NOTIFY, "notice")
    assert s.phase is Phase.NOTIFYING and s.accepted(T0 + 0.1) == [] and s.answer("1", T0) == []
    done = finished(s.confirm(T0 + 1))
    assert done.outcome is Outcome.NOTIFIED and done.state is DeliveryState.DELIVERED
    assert done.result == "notice" and s.confirm(T0 + 2) == []


def test_notification_without_confirm_ends_when_accepted() -> None:
    s = session(UssdMenu.notification("hello"), await_confirm=False)
    s.start(T0)
    assert finished(s.accepted(T0 + 0.2)).outcome is Outcome.NOTIFIED


def test_unconfirmed_notification_times_out() -> None:
    s = session(UssdMenu.notification("hello"))
    s.start(T0)
    assert s.get_timer() == T0 + 30
    assert finished(s.handle_timer(T0 + 30)).outcome is Outcome.TIMEOUT


# -- user-initiated --------------------------------------------------------------------------------


def test_user_initiated_session_counts_the_indication_as_step_zero() -> None:
    s = session(user_initiated=True)
    push = only_push(s.start(T0))
    assert (push.kind, push.step) == (Outbound.MENU, 1)
    assert only_push(s.answer("2", T0 + 1)).step == 3


def test_user_initiated_single_screen_is_a_final_answer_not_a_ussn() -> None:
    s = session(UssdMenu.notification("Balance: 12.50"), user_initiated=True)
    push = only_push(s.start(T0))
    assert push.kind is Outbound.END and push.encoded.data == b"Balance: 12.50"
    assert finished(s.accepted(T0 + 0.1)).outcome is Outcome.COMPLETED


def test_refuse_releases_before_the_first_screen() -> None:
    s = UssdSession(release_menu(STANDARD), user_initiated=True)
    out = s.refuse(T0, "no handler for this service code")
    assert only_push(out).end and only_push(out).encoded.data == b""
    assert finished(out).outcome is Outcome.FAILED
    assert s.refuse(T0, "again") == [] and s.start(T0) == []


def test_start_twice_does_nothing() -> None:
    s = session()
    s.start(T0)
    assert s.start(T0 + 1) == []


def test_timers_are_validated() -> None:
    with pytest.raises(ValueError, match="timeouts"):
        Timers(screen_timeout=0)
    with pytest.raises(ValueError, match="max_invalid"):
        Timers(max_invalid=-1)
