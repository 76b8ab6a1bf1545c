"""Reference clients of the three vendor APIs: ``trackmock.clients.tracker``, ``.trackops``,
``.track``. Each does what its vendor's documents ask of a client."""
