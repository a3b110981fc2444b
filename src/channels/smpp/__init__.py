"""SMPP 3.4: sans-IO codec and connection state machine, asyncio client (PROTOCOLS.md §1-3)."""
