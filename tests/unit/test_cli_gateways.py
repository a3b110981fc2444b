"""Gateway URLs → adapters for the CLI: the scheme table, credentials from the environment, pools."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from channels.cli.gateways import ChannelPool, open_channel, open_pool, redact, with_env_credentials
from channels.content import Text
from channels.errors import ConfigurationError
from channels.ivr.client import IvrClient
from channels.message import ChannelKind, Message
from channels.mm7.client import Mm7Client
from channels.results import DeliveryReceipt, DeliveryState, Event, SendResult
from channels.smpp.client import SmppClient
from channels.ussd.client import UssdChannel
from channels.wap.client import PapClient
from channels.wap.direct import WapSmppChannel

CASES = [
    (ChannelKind.SMS, "smpp://u:p@127.0.0.1:2775", SmppClient),
    (ChannelKind.WAP_PUSH, "smpp://u:p@127.0.0.1:2775", WapSmppChannel),
    (ChannelKind.WAP_PUSH, "wap+smpp://u:p@127.0.0.1:2775", WapSmppChannel),
    (ChannelKind.WAP_PUSH, "pap+http://127.0.0.1:8082/pap", PapClient),
    (ChannelKind.MMS, "mm7+http://u:p@127.0.0.1:8081/mm7?vaspid=v&vasid=s&service_code=c", Mm7Client),
    (ChannelKind.IVR, "ari+http://u:p@127.0.0.1:8088/ari?app=tc", IvrClient),
    (ChannelKind.USSD, "ussd+smpp://u:p@127.0.0.1:2776?profile=6d", UssdChannel),
]


@pytest.mark.parametrize(("kind", "url", "cls"), CASES)
async def test_each_scheme_opens_its_adapter_for_its_kind(kind: ChannelKind, url: str, cls: type) -> None:
    channel = open_channel(kind, url)
    try:
        assert isinstance(channel, cls)
        assert channel.kind is kind
    finally:
        await channel.aclose()


async def test_the_window_maps_onto_each_adapters_own_setting() -> None:
    sms = open_channel(ChannelKind.SMS, "smpp://u:p@127.0.0.1:2775?window=4", window=32)
    mms = open_channel(ChannelKind.MMS, CASES[4][1], window=7)
    try:
        assert isinstance(sms, SmppClient) and sms.config.window == 32
        assert isinstance(mms, Mm7Client) and mms.config.connections == 7
    finally:
        await sms.aclose()
        await mms.aclose()


def test_a_scheme_that_cannot_carry_the_channel_names_the_ones_that_can() -> None:
    with pytest.raises(ConfigurationError, match=r"mm7\+http:// cannot carry sms; use smpp://"):
        open_channel(ChannelKind.SMS, "mm7+http://127.0.0.1/mm7")
    with pytest.raises(ConfigurationError, match=r"pap\+http:// or pap\+https://"):
        open_channel(ChannelKind.WAP_PUSH, "ari+http://127.0.0.1/ari")


def test_an_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"scheme http:// is not one of smpp://"):
        open_channel(ChannelKind.SMS, "http://127.0.0.1")
    with pytest.raises(ConfigurationError, match="scheme missing"):
        open_channel(ChannelKind.SMS, "127.0.0.1:2775")


def test_credentials_come_from_the_environment_when_the_url_has_none() -> None:
    env = {"TELCO_GATEWAY_USER": "esme@1", "TELCO_GATEWAY_PASSWORD": "s3:cr/t"}
    url = with_env_credentials("smpp://127.0.0.1:2775?window=8", env)
    assert url == "smpp://esme%401:s3%3Acr%2Ft@127.0.0.1:2775?window=8"
    assert with_env_credentials("smpp://me:pw@127.0.0.1:2775", env) == "smpp://me:pw@127.0.0.1:2775"
    assert with_env_credentials("smpp://127.0.0.1:2775", {}) == "smpp://127.0.0.1:2775"


def test_env_credentials_reach_the_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELCO_GATEWAY_USER", "esme")
    monkeypatch.setenv("TELCO_GATEWAY_PASSWORD", "secret")
    channel = open_channel(ChannelKind.SMS, "smpp://127.0.0.1:2775")
    assert isinstance(channel, SmppClient)
    assert (channel.config.system_id, channel.config.password) == ("esme", "secret")


def test_redact_hides_only_the_password() -> None:
    assert redact("smpp://esme:secret@127.0.0.1:2775?window=8") == "smpp://esme:***@127.0.0.1:2775?window=8"
    assert redact("pap+http://127.0.0.1/pap") == "pap+http://127.0.0.1/pap"


class Fake:
    """A channel that records what it sends and replays queued events."""

    kind = ChannelKind.SMS

    def __init__(self, name: str = "gw") -> None:
        self.name = name
        self.sent: list[str] = []
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self.closed = False

    async def send(self, message: Message) -> SendResult:
        self.sent.append(message.id)
        return SendResult(message_id=message.id, channel=self.kind, remote_ids=(message.id,),
                          accepted_at=datetime.now(UTC))  # fmt: skip

    async def events(self) -> AsyncIterator[Event]:
        while (event := await self.queue.get()) is not None:
            yield event

    async def aclose(self) -> None:
        self.closed = True
        self.queue.put_nowait(None)


def message(i: int) -> Message:
    return Message(to=f"86138000000{i:02d}", kind=ChannelKind.SMS, content=Text(body="x"), id=f"m{i}")


async def test_a_pool_sends_round_robin_merges_events_and_closes_every_member() -> None:
    members = [Fake(), Fake(), Fake()]
    pool = ChannelPool(members)
    for i in range(7):
        await pool.send(message(i))
    assert [len(m.sent) for m in members] == [3, 2, 2]
    events = pool.events()
    receipt = DeliveryReceipt(channel=ChannelKind.SMS, state=DeliveryState.DELIVERED, remote_id="m1",
                              at=datetime.now(UTC))  # fmt: skip
    members[2].queue.put_nowait(receipt)
    assert await asyncio.wait_for(anext(events), 1) is receipt
    await pool.aclose()
    assert all(m.closed for m in members)
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(events), 1)


def test_pool_members_must_share_kind_and_name() -> None:
    with pytest.raises(ConfigurationError, match="one kind and one name"):
        ChannelPool([Fake("a"), Fake("b")])
    with pytest.raises(ConfigurationError):
        ChannelPool([])


async def test_open_pool_gives_one_adapter_or_a_pool_of_same_named_ones() -> None:
    single = open_pool(ChannelKind.SMS, "smpp://u:p@127.0.0.1:2775", 1)
    pool = open_pool(ChannelKind.SMS, "smpp://u:p@127.0.0.1:2775", 3, window=16)
    try:
        assert isinstance(single, SmppClient)
        assert isinstance(pool, ChannelPool) and len(pool.members) == 3
        assert {m.name for m in pool.members} == {pool.name}
        assert all(isinstance(m, SmppClient) and m.config.window == 16 for m in pool.members)
    finally:
        await single.aclose()
        await pool.aclose()
    with pytest.raises(ConfigurationError, match="--connections"):
        open_pool(ChannelKind.SMS, "smpp://u:p@127.0.0.1:2775", 0)
