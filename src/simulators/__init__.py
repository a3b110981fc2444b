"""Gateway simulators for SMPP (SMSC, USSD), MM7 (MMSC), PAP (PPG) and ARI (IVR).

Built on the same protocol cores as the adapters, in the other role; each is an async context
manager listening on loopback (port 0 = a free port) whose ``url`` the matching adapter's
``from_url`` accepts, with a seeded scenario and a recorder of what subscribers would see.
"""

from simulators.ivr import IvrSimulator
from simulators.ivr_model import Callee, IvrScenario
from simulators.mmsc import MmscSimulator
from simulators.mmsc_model import MmscScenario
from simulators.ppg import PpgScenario, PpgSimulator
from simulators.recorder import Recorder
from simulators.smsc import SmscScenario, SmscSimulator
from simulators.ussd import UssdGatewaySimulator
from simulators.ussd_handset import UssdScenario

__all__ = [
    "Callee",
    "IvrScenario",
    "IvrSimulator",
    "MmscScenario",
    "MmscSimulator",
    "PpgScenario",
    "PpgSimulator",
    "Recorder",
    "SmscScenario",
    "SmscSimulator",
    "UssdGatewaySimulator",
    "UssdScenario",
]
