"""``trackmock proxy``: a validating proxy between an integrator's client and a vendor.

Modules, one job each: ``app`` forwards HTTP and relays the Track socket frame by frame (an
ASGI application), ``traffic`` records what went through and checks it off the forwarding
path with the drift engine, ``har`` writes that traffic as HAR 1.2 with secrets scrubbed,
``tls`` makes the proxy's test certificates, ``command`` runs it all from the command line.
"""
