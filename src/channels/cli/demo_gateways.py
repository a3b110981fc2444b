"""The five gateway simulators and their adapters, started in this process for ``demo``.

Each simulator listens on a free loopback port; each adapter is built from the simulator's URL, the
same way a user points the SDK at a real gateway. Scenarios are seeded, so two runs tell the same
story: the outcome mixes follow the operators' reports (43 % of calls connected, a few percent of
SMS undelivered, most MMS retrieved).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from channels.channel import Channel
from channels.ivr import IvrClient
from channels.mm7 import Mm7Client
from channels.results import DeliveryState
from channels.smpp.client import SmppClient
from channels.ussd import UssdChannel
from channels.wap.client import PapClient
from simulators.ivr import IvrSimulator
from simulators.ivr_model import IvrScenario
from simulators.mmsc import MmscSimulator
from simulators.mmsc_model import MmscScenario
from simulators.ppg import PpgSimulator
from simulators.smsc import SmscScenario, SmscSimulator
from simulators.ussd import UssdGatewaySimulator
from simulators.ussd_handset import UssdScenario

SEED = 2009


@dataclass
class Gateways:
    smsc: SmscSimulator
    mmsc: MmscSimulator
    ppg: PpgSimulator
    ivr: IvrSimulator
    ussd: UssdGatewaySimulator
    channels: list[Channel]

    def urls(self) -> dict[str, str]:
        return {
            "sms": self.smsc.url,
            "mms": self.mmsc.url,
            "wap_push": self.ppg.url,
            "ivr": self.ivr.url,
            "ussd": self.ussd.url,
        }


async def start_gateways(
    stack: contextlib.AsyncExitStack, smsc_scenario: SmscScenario | None = None
) -> Gateways:
    """Start the five simulators and connect one adapter to each; everything closes with ``stack``."""
    sms_outcomes = {
        DeliveryState.DELIVERED: 0.92,
        DeliveryState.UNDELIVERABLE: 0.05,
        DeliveryState.EXPIRED: 0.03,
    }
    # A fifth of the targets answer the offer: most "88", some typed full-width, a few opt out.
    replies = {"88": 0.6, "８８": 0.25, "TD": 0.1, "退订": 0.05}
    default = SmscScenario(
        seed=SEED, outcomes=sms_outcomes, receipt_delay=0.05, reply_rate=0.2, replies=replies, reply_delay=0.2
    )
    accounts = {"test": "secret", "ppg": "ppgpass"}  # the PPG forwards on its own bind
    smsc = await stack.enter_async_context(
        SmscSimulator(accounts=accounts, scenario=smsc_scenario or default)
    )
    ppg_smsc = f"smpp://ppg:ppgpass@{smsc.host}:{smsc.port}"
    ppg = await stack.enter_async_context(PpgSimulator(smsc=ppg_smsc))
    mmsc = await stack.enter_async_context(
        MmscSimulator(
            scenario=MmscScenario(
                seed=SEED, report_delay=(0.2, 1.0), outcomes={"Retrieved": 0.9, "Rejected": 0.1}
            )
        )
    )
    ivr_scenario = IvrScenario(seed=SEED, setup_time=(0.1, 0.3), ring_time=(0.5, 3.0), digit_delay=(0.5, 2.0))
    ivr = await stack.enter_async_context(IvrSimulator(scenario=ivr_scenario, speed=30.0))
    ussd = await stack.enter_async_context(
        UssdGatewaySimulator(scenario=UssdScenario(seed=SEED, choices={"1": 0.5, "2": 0.3, "0": 0.2}))
    )
    sms = SmppClient.from_url(smsc.url + "?window=64", name="smsc")
    mm7 = Mm7Client.from_url(mmsc.url + "&report_url=http://127.0.0.1:0/vasp&sender=10086")
    await stack.enter_async_context(mm7)
    assert mm7.report_url is not None
    mmsc.register_vasp(mm7.report_url)
    pap = PapClient.from_url(ppg.url + "?notify=127.0.0.1:0")
    calls = IvrClient.from_url(ivr.url)
    menus = UssdChannel.from_url(ussd.url)
    return Gateways(smsc, mmsc, ppg, ivr, ussd, [sms, mm7, pap, calls, menus])
