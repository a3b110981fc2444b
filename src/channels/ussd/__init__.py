"""USSD over SMPP 3.4 (PROTOCOLS.md §6): gateway profiles, the pure session machine, the channel."""

from channels.ussd.client import SubscriberBusy, UssdChannel
from channels.ussd.config import BusyPolicy, UssdConfig
from channels.ussd.profile import MICA, PROFILES, SIXDEE, STANDARD, SessionKey, UssdProfile, get_profile
from channels.ussd.routing import UssdRequest
from channels.ussd.session import Outcome, Timers, UssdSession

__all__ = [
    "MICA",
    "PROFILES",
    "SIXDEE",
    "STANDARD",
    "BusyPolicy",
    "Outcome",
    "SessionKey",
    "SubscriberBusy",
    "Timers",
    "UssdChannel",
    "UssdConfig",
    "UssdProfile",
    "UssdRequest",
    "UssdSession",
    "get_profile",
]
