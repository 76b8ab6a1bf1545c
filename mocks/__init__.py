"""trackmock: emulators, contracts and reference clients for three tracking vendors' APIs.

Importing this package is cheap: vendor packages, Faker and the schema compiler load only
inside the functions that need them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
