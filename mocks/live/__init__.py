"""``trackmock probe``: a safe, read-only contract test against a live vendor.

Modules, one job each: ``vendors`` keeps each vendor's login and pacing rules (as the reference
clients do), ``plan`` chooses the read operations and their parameter values, ``probe`` calls
them and checks the answers and socket frames with the drift engine, ``command`` runs it from
the command line.
"""
