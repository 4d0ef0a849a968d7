"""pyop: a pure-Python reference implementation of the OP Stack rollup node.

Floors (lower never import higher): ``config``/``primitives`` -> ``codec``/``protocol``/``sources``
-> ``derivation`` -> ``engine``/``batcher``/``proposer`` -> ``node``/``tools`` -> ``devnet`` -> ``cli``.
See ``ARCHITECTURE.md`` in the shared folder for the layout.
"""

import os as _os

__version__ = "0.1.0"

# keccak256 is on every hot path (tx hashes, deposit source hashes, tries). eth-hash picks its
# pycryptodome backend first (~5.5 us a 32-byte call here); the pysha3 backend (safe-pysha3, a C
# extension with manylinux wheels, installed with pyop through eth-hash's ``pysha3`` extra) takes
# ~1 us, and the 1,000-block derivation bench runs faster with it (``python -m bench.keccak_bench``
# measures both side by side). Chosen here, before the first ``keccak`` call (eth-hash binds the
# backend then), unless the user set ``ETH_HASH_BACKEND`` themselves; without safe-pysha3,
# eth-hash's own choice (pycryptodome) stays (tests/test_keccak_backend.py).
if "ETH_HASH_BACKEND" not in _os.environ:
    try:
        import sha3 as _sha3  # noqa: F401  (safe-pysha3; only its presence matters)
    except ImportError:
        pass
    else:
        _os.environ["ETH_HASH_BACKEND"] = "pysha3"
