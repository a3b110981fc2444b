"""The SMSC simulator's table of accepted messages (simulators.smsc_record.MessageStates): a list by
number that reads like the dict of id strings it replaced, and only for ids spelled as the SMSC
spells them; query_sm and cancel_sm answer from it."""

from __future__ import annotations

import pytest

from channels.results import DeliveryState
from channels.smpp import pdu as codec
from channels.smpp.constants import CommandId
from simulators import SmscScenario, SmscSimulator
from simulators.smsc_record import MessageStates
from simulators.smsc_scenario import IdStyle

D, U = DeliveryState.DELIVERED, DeliveryState.UNDELIVERABLE


def test_reads_as_the_dict_of_its_ids() -> None:
    states = MessageStates(0xE999F21, "%X")
    for state in (D, U, D):
        states.append(state)
    assert dict(states) == {"E999F21": D, "E999F22": U, "E999F23": D}
    assert states == {"E999F21": D, "E999F22": U, "E999F23": D}
    assert len(states) == 3 and list(states) == ["E999F21", "E999F22", "E999F23"]
    assert states["E999F22"] is U and states.get("E999F23") is D


@pytest.mark.parametrize(
    "message_id",
    ["E999F20", "E999F24", "e999f21", "0xE999F21", " E999F21", "+E999F21", "E999_F21", "0E999F21", "", "zz"],
)
def test_ids_not_given_out_or_not_spelled_so_are_unknown(message_id: str) -> None:
    states = MessageStates(0xE999F21, "%X")
    states.append(D)
    assert message_id not in states
    assert states.get(message_id) is None
    with pytest.raises(KeyError):
        states[message_id]


def test_padded_decimal_ids() -> None:
    states = MessageStates(7, "%06d")
    states.append(U)
    assert states["000007"] is U
    assert "7" not in states and "0000007" not in states and "000008" not in states


async def test_query_sm_and_cancel_sm_answer_from_it() -> None:
    scenario = SmscScenario(receipts=False, response_ids=IdStyle(base=10, width=12), outcomes={U: 1.0})
    async with SmscSimulator(accounts={"a": "b"}, scenario=scenario) as smsc:
        proto = smsc._new_session()
        (session,) = smsc._sessions
        written: list[bytes] = []

        class Wire:
            def write(self, data: bytes) -> None:
                written.append(bytes(data))

            def is_closing(self) -> bool:
                return False

            def abort(self) -> None:
                pass

        proto.connection_made(Wire())  # type: ignore[arg-type]
        pdus = [
            codec.make(CommandId.BIND_TRANSCEIVER, 1, system_id="a", password="b"),
            codec.make(CommandId.SUBMIT_SM, 2, destination_addr="1", short_message=b"hi"),
            codec.make(CommandId.QUERY_SM, 3, message_id="000244948769"),
            codec.make(CommandId.QUERY_SM, 4, message_id="244948769"),
            codec.make(CommandId.CANCEL_SM, 5, message_id="000244948769"),
            codec.make(CommandId.CANCEL_SM, 6, message_id="000244948770"),
        ]
        for pdu in pdus:
            proto.data_received(codec.encode(pdu))
            proto.flush()
        answers = [codec.decode(data) for data in written]
        assert [(a.command_id, a.sequence, a.status) for a in answers[1:]] == [
            (CommandId.SUBMIT_SM_RESP, 2, 0),
            (CommandId.QUERY_SM_RESP, 3, 0),
            (CommandId.QUERY_SM_RESP, 4, 0x67),  # ESME_RQUERYFAIL
            (CommandId.CANCEL_SM_RESP, 5, 0),
            (CommandId.CANCEL_SM_RESP, 6, 0x11),  # ESME_RCANCELFAIL
        ]
        assert answers[1].get("message_id") == "000244948769"
        assert answers[2].get("message_state") == 5  # UNDELIVERABLE (SMPP v3.4 §5.2.28)
        assert session.conn.bound
