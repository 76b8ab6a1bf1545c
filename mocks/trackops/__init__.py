"""The Trackops emulator: TLS only, basic auth per account, 1 request per second, 32 paged
collections driven by ``contracts/trackops/openapi.yaml``.

``trackmock.vendors.create_emulator("trackops", ...)`` builds it (``provider.TrackopsProvider``);
nothing is built at import.
"""
