"""smpplib's own blocking ``smpplib.client.Client`` against our SmscSimulator over TCP on 127.0.0.1 (issue 2):
a client we did not write binds, submits, gets its message id and the delivery receipt carrying that id,
and is refused with ESME_RINVPASWD on a wrong password. smpplib runs in a worker thread, the simulator
on the test's event loop."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp

from channels.smpp import status as st
from simulators.smsc import SmscScenario, SmscSimulator

DEADLINE = 5.0


@dataclass
class Seen:
    """What the smpplib client saw, collected in its thread."""

    bind_status: int = -1
    smsc_system_id: bytes = b""
    submit_resps: list[Any] = field(default_factory=list)
    delivers: list[Any] = field(default_factory=list)
    enquire_link_resp: Any = None
    unbind_resp: Any = None


def new_client(port: int) -> smpplib.client.Client:
    return smpplib.client.Client("127.0.0.1", port, timeout=DEADLINE, allow_unknown_opt_params=True)


def read_until(client: smpplib.client.Client, done: Any) -> None:
    """Let smpplib read and act (it answers deliver_sm itself) until ``done()``, within DEADLINE."""
    end = time.monotonic() + DEADLINE
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("smpplib client: nothing more arrived in time")
        client.read_once(auto_send_enquire_link=False)


def submit(client: smpplib.client.Client, to: str, text: bytes) -> Any:
    return client.send_message(
        source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
        source_addr_npi=smpplib.consts.SMPP_NPI_UNK,
        source_addr="ACME",
        dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
        dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
        destination_addr=to,
        short_message=text,
        data_coding=0,
        registered_delivery=True,
    )


def transceiver_session(port: int) -> Seen:
    seen = Seen()
    client = new_client(port)
    client.set_message_sent_handler(lambda pdu, **_: seen.submit_resps.append(pdu))
    client.set_message_received_handler(lambda pdu, **_: seen.delivers.append(pdu))
    client.connect()
    try:
        resp = client.bind_transceiver(system_id="test", password="secret")
        seen.bind_status, seen.smsc_system_id = resp.status, resp.system_id
        sent = submit(client, "447700900123", b"Hello from smpplib")
        assert sent.sequence == 3  # smpplib numbered its bind 2 (PROTOCOLS.md §1.4)
        read_until(client, lambda: seen.submit_resps and seen.delivers)
        ping = smpplib.smpp.make_pdu("enquire_link", client=client)
        client.send_pdu(ping)
        seen.enquire_link_resp = client.read_pdu()
        seen.unbind_resp = client.unbind()
    finally:
        client.disconnect()
    return seen


async def test_smpplib_client_transceiver_submit_and_receipt() -> None:
    async with SmscSimulator(accounts={"test": "secret"}, scenario=SmscScenario(receipt_delay=0.02)) as smsc:
        seen = await asyncio.wait_for(asyncio.to_thread(transceiver_session, smsc.port), 15)
        assert smsc.recorder.records, "the simulator recorded no message"
        record = smsc.recorder.records[0]

    assert seen.bind_status == 0 and seen.smsc_system_id == b"TCSMSC"
    (resp,) = seen.submit_resps
    assert resp.status == 0 and resp.sequence == 3
    message_id = resp.message_id.decode("ascii")
    assert message_id and message_id == record["message_id"]
    assert record["text"] == "Hello from smpplib" and record["destination"] == "447700900123"
    assert record["source"] == "ACME" and record["receipt_state"] == "delivered"

    (receipt,) = seen.delivers
    assert receipt.command == "deliver_sm"
    assert receipt.esm_class == 0x04  # SMSC delivery receipt (§5.2.12)
    assert receipt.receipted_message_id == message_id.encode("ascii")
    assert receipt.message_state == smpplib.consts.SMPP_MESSAGE_STATE_DELIVERED
    text = receipt.short_message.decode("ascii")
    assert f"id:{message_id} " in text and "stat:DELIVRD" in text
    assert receipt.source_addr == b"447700900123" and receipt.destination_addr == b"ACME"

    assert seen.enquire_link_resp.command == "enquire_link_resp" and seen.enquire_link_resp.status == 0
    assert seen.unbind_resp.command == "unbind_resp" and seen.unbind_resp.status == 0


def split_binds_session(port: int) -> tuple[Seen, Seen]:
    """A transmitter submits; the receipt reaches the account's receiver bind."""
    tx_seen, rx_seen = Seen(), Seen()
    rx = new_client(port)
    rx.set_message_received_handler(lambda pdu, **_: rx_seen.delivers.append(pdu))
    tx = new_client(port)
    tx.set_message_sent_handler(lambda pdu, **_: tx_seen.submit_resps.append(pdu))
    rx.connect()
    tx.connect()
    try:
        rx_seen.bind_status = rx.bind_receiver(system_id="test", password="secret").status
        tx_seen.bind_status = tx.bind_transmitter(system_id="test", password="secret").status
        submit(tx, "8613800138000", b"split binds")
        read_until(tx, lambda: tx_seen.submit_resps)
        read_until(rx, lambda: rx_seen.delivers)
        tx.unbind()
        rx.unbind()
    finally:
        tx.disconnect()
        rx.disconnect()
    return tx_seen, rx_seen


async def test_smpplib_receipt_reaches_the_receiver_bind() -> None:
    async with SmscSimulator(accounts={"test": "secret"}, scenario=SmscScenario(receipt_delay=0.02)) as smsc:
        tx_seen, rx_seen = await asyncio.wait_for(asyncio.to_thread(split_binds_session, smsc.port), 15)
    assert tx_seen.bind_status == rx_seen.bind_status == 0
    (resp,) = tx_seen.submit_resps
    (receipt,) = rx_seen.delivers
    assert receipt.receipted_message_id == resp.message_id


def wrong_password_session(port: int) -> tuple[int, bool]:
    client = new_client(port)
    client.connect()
    try:
        with pytest.raises(smpplib.exceptions.PDUError) as info:
            client.bind_transceiver(system_id="test", password="wrong")
        # The session stays open and unbound: a bind with the right password still works.
        retry = client.bind_transceiver(system_id="test", password="secret")
        client.unbind()
    finally:
        client.disconnect()
    return int(info.value.args[1]), retry.status == 0


async def test_smpplib_wrong_password_gets_bind_error() -> None:
    async with SmscSimulator(accounts={"test": "secret"}) as smsc:
        status, retried = await asyncio.wait_for(asyncio.to_thread(wrong_password_session, smsc.port), 15)
        assert smsc.recorder.records == []
    assert status == st.ESME_RINVPASWD == smpplib.consts.SMPP_ESME_RINVPASWD
    assert retried


def unknown_command_session(port: int) -> bytes:
    """Raw socket: a 5.0 broadcast_sm (0x111) after a bind is nacked with ESME_RINVCMDID, same sequence."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
        bind = smpplib.smpp.make_pdu("bind_transceiver", client=new_client(port), system_id="test",
                                     password="secret")
        bind.sequence = 1
        sock.sendall(bind.generate())
        sock.recv(4096)
        sock.sendall(bytes.fromhex("00000010 00000111 00000000 0000abcd"))
        return sock.recv(4096)


async def test_unknown_command_from_a_raw_peer_is_nacked() -> None:
    async with SmscSimulator(accounts={"test": "secret"}) as smsc:
        answer = await asyncio.wait_for(asyncio.to_thread(unknown_command_session, smsc.port), 15)
    nack = smpplib.smpp.parse_pdu(answer, client=None, allow_unknown_opt_params=True)
    assert (nack.command, nack.status, nack.sequence) == ("generic_nack", st.ESME_RINVCMDID, 0xABCD)
