"""The derivation pipeline: L1 data -> payload attributes (specs/protocol/derivation.md).

Pure and pull-based: no I/O happens inside a stage; every stage pulls from the one below it
through a small ``typing.Protocol``, and the bottom stages read L1/L2 data through the
interfaces in :mod:`pyop.derivation.interfaces`.
"""
