"""Gateway simulators for SMPP (SMSC, USSD), MM7 (MMSC), PAP (PPG) and ARI (IVR).

Built on the same protocol cores as the adapters, in the other role.
"""
