"""The Safectory Track emulator: REST and the WebSocket feed on one port, control actions.

``trackmock.vendors.create_emulator("track", ...)`` builds it (``provider.TrackProvider``);
nothing is built at import.
"""
