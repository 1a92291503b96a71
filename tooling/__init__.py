"""Build, tag and publish tooling for the hardened Temporal server image.

`tasks.py` (Invoke) and `noxfile.py` (Nox) are thin wrappers around these modules,
so that the logic can be imported and unit-tested.
"""
