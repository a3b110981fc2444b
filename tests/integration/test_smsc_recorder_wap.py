"""The SMSC simulator's recorder shows a WAP push as the handset would: its href and text."""

from __future__ import annotations

from channels import ChannelKind, Message, WapPush
from channels.wap.direct import WapSmppChannel
from simulators.smsc import SmscSimulator


async def test_recorder_decodes_single_and_two_segment_pushes() -> None:
    async with SmscSimulator() as smsc:
        channel = WapSmppChannel.from_url(smsc.url.replace("smpp://", "wap+smpp://"))
        async with channel:
            short = WapPush(href="http://wap.example.com/offer", text="春节特惠 10 GB")
            long_text = "Spring offer: 10 GB of data for 10 yuan a month, valid until the end of March. " * 2
            long = WapPush(href="https://wap.example.org/a/very/long/path/offer?id=42", text=long_text)
            for content in (short, long):
                await channel.send(Message(to="8613800138000", kind=ChannelKind.WAP_PUSH, content=content))
    first, second = smsc.recorder.records
    assert first["wap"]["href"] == short.href
    assert first["wap"]["text"] == short.text
    assert first["parts"] == 1
    assert second["wap"]["href"] == long.href
    assert second["wap"]["text"] == long_text
    assert second["parts"] == 2
