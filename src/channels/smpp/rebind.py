"""Session-level retry of binding (DESIGN §2.5): which bind refusals pass, and the backoff between tries.

PROTOCOLS.md §1.5: reconnect with capped exponential backoff and jitter. A bind refused with
ESME_RALYBND means the SMSC still holds our previous session, dropped without unbind, until its link
check expires (praekeltfoundation/vumi#624); RBINDFAIL, RSYSERR and the load statuses may pass too. Wrong
credentials or system_type never pass, so they are raised at once instead of hammering the SMSC.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_never,
    wait_exponential_jitter,
)

from channels.errors import ChannelsError, TransportError
from channels.smpp import status as st
from channels.smpp.transport import SmppTransport

log = structlog.get_logger(__name__)

# Bind refusals worth another attempt after a backoff; the others (credentials, system_type) are not.
BIND_RETRY_STATUSES = frozenset(
    {
        st.ESME_RALYBND,
        st.ESME_RBINDFAIL,
        st.ESME_RSYSERR,
        st.ESME_RTHROTTLED,
        st.ESME_RMSGQFUL,
        st.ESME_RX_T_APPN,
    }
)


class BindRefused(TransportError):
    """The SMSC refused the bind for a reason that may pass (already bound, system error)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def bind_error(status: int, where: str) -> ChannelsError:
    """The error for a refused bind: retriable :class:`BindRefused` or the status table's class."""
    if status in BIND_RETRY_STATUSES:
        return BindRefused(f"{where}: {st.status_name(status)} ({status:#x})", status=status)
    return st.error_for(status, where)


def _retriable(exc: BaseException) -> bool:
    return isinstance(exc, ChannelsError) and exc.retriable


async def bind_with_retry(
    open_link: Callable[[], Awaitable[SmppTransport]],
    *,
    name: str,
    attempts: int | None,
    initial: float,
    maximum: float,
) -> SmppTransport:
    """``open_link()`` until it binds: retriable failures are tried again after exponential backoff with
    jitter (``attempts`` None: until cancelled); the last failure, or a non-retriable one, is raised."""

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.info("smpp.bind.retrying", link=name, attempt=state.attempt_number, error=str(error))

    async for attempt in AsyncRetrying(
        retry=retry_if_exception(_retriable),
        stop=stop_never if attempts is None else stop_after_attempt(attempts),
        wait=wait_exponential_jitter(multiplier=initial, max=maximum, jitter=initial),
        before_sleep=before_sleep,
        reraise=True,
    ):
        with attempt:
            return await open_link()
    raise AssertionError("unreachable")  # pragma: no cover
