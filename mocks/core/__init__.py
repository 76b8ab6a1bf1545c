"""The vendor-neutral emulator core: state, clock, limits, journal, faults, contracts, server.

Nothing here names a vendor. Import the submodule you need (``trackmock.core.clock``, ...);
this package re-exports nothing so that importing it stays cheap.
"""
