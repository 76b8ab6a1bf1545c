"""The Tracker Products SAFE emulator: ``trackmock.vendors.create_emulator("tracker", ...)``
builds it (``provider.TrackerProvider``); nothing is built at import."""
