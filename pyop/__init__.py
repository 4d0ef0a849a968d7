"""pyop: a pure-Python reference implementation of the OP Stack rollup node.

Floors (lower never import higher): ``config``/``primitives`` -> ``codec``/``protocol``/``sources``
-> ``derivation`` -> ``engine``/``batcher``/``proposer`` -> ``node``/``tools`` -> ``devnet`` -> ``cli``.
See ``ARCHITECTURE.md`` in the shared folder for the layout.
"""

import os as _os
from importlib.util import find_spec as _find_spec

__version__ = "0.1.0"

# keccak256 is on every hot path (tx hashes, deposit source hashes, tries). eth-hash picks its
# pycryptodome backend first (~4 us a call); the pysha3 backend (safe-pysha3, a C extension,
# installed with pyop) is several times faster. Chosen here, before the first ``keccak`` call
# (eth-hash binds the backend then), unless the user set ``ETH_HASH_BACKEND`` themselves.
if "ETH_HASH_BACKEND" not in _os.environ and _find_spec("sha3") is not None:
    _os.environ["ETH_HASH_BACKEND"] = "pysha3"
