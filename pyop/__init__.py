"""pyop: a pure-Python reference implementation of the OP Stack rollup node.

Floors (lower never import higher): ``config``/``primitives`` -> ``codec``/``protocol``/``sources``
-> ``derivation`` -> ``engine``/``batcher``/``proposer`` -> ``node``/``tools`` -> ``devnet`` -> ``cli``.
See ``ARCHITECTURE.md`` in the shared folder for the layout.
"""

__version__ = "0.1.0"
