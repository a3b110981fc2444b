"""The REST half of the ARI subset over aiohttp, with every failure translated into our errors.

Each :mod:`channels.ivr.session` command becomes one request (PROTOCOLS.md §7 table): originate
``POST /ari/channels``, ``GET /ari/channels/{id}`` for resync, ``answer``, ``play/{playbackId}``,
``DELETE /ari/playbacks/{id}`` and ``DELETE /ari/channels/{id}``. HTTP statuses map to error classes
through tables; a request that may have reached the gateway without an answer is
:class:`~channels.errors.OutcomeUnknown` (never retried blindly, DESIGN §2.6), one that could not be
sent is a :class:`~channels.errors.TransportError`.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import aiohttp

from channels.errors import (
    AuthenticationError,
    ChannelsError,
    OutcomeUnknown,
    RemoteProtocolError,
    RemoteTemporaryError,
    RemoteThrottled,
    SendRejected,
    TransportError,
)
from channels.ivr.events import ChannelInfo
from channels.ivr.session import Answer, Command, Hangup, Originate, Play, StopPlayback

# Originate answers other than 200 → error class (ARI: 400 invalid parameters, 409 id in use).
ORIGINATE_ERRORS: dict[int, type[ChannelsError]] = {
    400: SendRejected,
    401: AuthenticationError,
    403: AuthenticationError,
    404: SendRejected,
    409: SendRejected,
    422: SendRejected,
    429: RemoteThrottled,
    500: RemoteTemporaryError,
    502: RemoteTemporaryError,
    503: RemoteThrottled,
    504: RemoteTemporaryError,
}


def _path(segment: str) -> str:
    return quote(segment, safe="")


def _message(body: str) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        return body[:200]
    return str(doc.get("message", body[:200])) if isinstance(doc, dict) else body[:200]


class AriRest:
    """REST calls of the subset on one aiohttp session."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, timeout: float) -> None:
        self._http = session
        self._base = base_url
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        try:
            async with self._http.request(
                method, self._base + path, params=params, timeout=self._timeout
            ) as resp:
                return resp.status, await resp.text()
        except aiohttp.ClientConnectorError as exc:
            raise TransportError(f"ARI {method} {path}: cannot connect: {exc}") from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise OutcomeUnknown(f"ARI {method} {path}: no answer: {exc!r}") from exc

    async def originate(self, cmd: Originate) -> ChannelInfo:
        """``POST /ari/channels``; returns the created channel or raises by ``ORIGINATE_ERRORS``."""
        params = {
            "endpoint": cmd.endpoint,
            "app": cmd.app,
            "channelId": cmd.channel_id,
            "timeout": str(max(1, round(cmd.timeout))),
        }
        if cmd.app_args:
            params["appArgs"] = ",".join(cmd.app_args)
        if cmd.caller_id:
            params["callerId"] = cmd.caller_id
        status, text = await self._request("POST", "/channels", params)
        if status == 200:  # accepted: a body we cannot read does not undo the call
            try:
                return self._channel(text)
            except RemoteProtocolError:
                return ChannelInfo(id=cmd.channel_id)
        error = ORIGINATE_ERRORS.get(status, SendRejected)
        message = f"originate refused: HTTP {status}: {_message(text)}"
        if issubclass(error, SendRejected):
            raise error(message, code=status, name=_message(text))
        raise error(message)

    async def get_channel(self, channel_id: str) -> ChannelInfo | None:
        """``GET /ari/channels/{id}``; None when the channel no longer exists."""
        status, text = await self._request("GET", f"/channels/{_path(channel_id)}")
        if status == 404:
            return None
        if status != 200:
            raise RemoteTemporaryError(f"get channel: HTTP {status}", code=status)
        return self._channel(text)

    @staticmethod
    def _channel(text: str) -> ChannelInfo:
        try:
            doc = json.loads(text)
        except ValueError:
            raise RemoteProtocolError("channel: response is not JSON") from None
        return ChannelInfo.from_json(doc)

    async def execute(self, cmd: Command) -> bool:
        """Run an in-call command; False when the gateway refused it or it could not be delivered."""
        try:
            status, _ = await self._request(*self._route(cmd))
        except ChannelsError:
            return False
        return 200 <= status < 300

    @staticmethod
    def _route(cmd: Command) -> tuple[str, str, dict[str, str] | None]:
        if isinstance(cmd, Play):
            path = f"/channels/{_path(cmd.channel_id)}/play/{_path(cmd.playback_id)}"
            return "POST", path, {"media": cmd.media}
        if isinstance(cmd, StopPlayback):
            return "DELETE", f"/playbacks/{_path(cmd.playback_id)}", None
        if isinstance(cmd, Hangup):
            return "DELETE", f"/channels/{_path(cmd.channel_id)}", {"reason": cmd.reason}
        if isinstance(cmd, Answer):
            return "POST", f"/channels/{_path(cmd.channel_id)}/answer", None
        raise TypeError(f"not an in-call command: {cmd!r}")

    async def open_events(self, url: str, app: str, heartbeat: float) -> aiohttp.ClientWebSocketResponse:
        """``GET /ari/events?app=A`` upgraded to a WebSocket (connecting creates the app)."""
        try:
            return await self._http.ws_connect(
                url,
                params={"app": app},
                heartbeat=heartbeat or None,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=self._timeout.total),
            )
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in (401, 403):
                raise AuthenticationError(f"ARI events: HTTP {exc.status}") from exc
            raise TransportError(f"ARI events: HTTP {exc.status}") from exc
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            raise TransportError(f"ARI events: cannot connect: {exc!r}") from exc
