"""The error tree of telco-channels.

Failures are exceptions; policy outcomes (defer, reject) are values (see ``policy``). Every error
carries a ``retriable`` class flag, in the manner of aiokafka: the Dispatcher's message-level retry
and the clients' session-level retry consult only this flag, never a list of exception types, so a
new error class decides its own retry behaviour in one place.

Each boundary translates foreign exceptions into these with ``raise ... from``.
"""

from __future__ import annotations


class ChannelsError(Exception):
    """Base of every error raised by telco-channels."""

    retriable: bool = False


class ConfigurationError(ChannelsError, ValueError):
    """Bad configuration or bad input given by the user (a URL, a field, a row)."""


class ProtocolError(ChannelsError):
    """A peer or we broke the wire protocol."""


class LocalProtocolError(ProtocolError):
    """We were asked to do something the protocol forbids in the current state (our bug or misuse)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something malformed or out of place.

    ``status`` is the protocol status to answer with (e.g. an SMPP command_status for generic_nack).
    """

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class TransportError(ChannelsError):
    """The connection failed or could not be made; nothing was sent on it that we know of."""

    retriable = True


class ConnectTimeout(TransportError):
    """Connecting or binding took too long."""


class ChannelClosed(ChannelsError):
    """The channel was closed by the user; no more sends are possible."""


class AuthenticationError(ChannelsError):
    """The gateway refused our credentials (e.g. ESME_RINVPASWD, HTTP 401)."""


class OutcomeUnknown(ChannelsError):
    """A request was written but no answer came: the gateway may or may not have accepted it.

    Never retried automatically (DESIGN §2.6): a resend may duplicate the message on the handset.
    """


class SendRejected(ChannelsError):
    """The gateway answered and refused this message.

    ``code`` is the gateway's status (int for SMPP, str code for MM7/PAP), ``name`` its symbolic name.
    """

    def __init__(self, message: str, *, code: int | str | None = None, name: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.name = name


class RemoteThrottled(SendRejected):
    """The gateway asked us to slow down (ESME_RTHROTTLED, ESME_RMSGQFUL, HTTP 429/503); resend later."""

    retriable = True


class RemoteTemporaryError(SendRejected):
    """The gateway failed transiently (ESME_RSYSERR, MM7 3xxx); the same message may be resent."""

    retriable = True


class InvalidRecipient(SendRejected):
    """The destination is not valid for this gateway."""


class ContentRejected(SendRejected):
    """The content is not acceptable (too long, bad encoding, unsupported media)."""
