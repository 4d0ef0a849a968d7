"""Local devnet tooling (floor 5): test keys, the anvil L1, the OP L1 contract deployment,
an alt-DA server and process management for ``pyop devnet``.

L1 side: :mod:`pyop.devnet.keys`, :mod:`pyop.devnet.anvil`, :mod:`pyop.devnet.artifacts`,
:mod:`pyop.devnet.l1_deploy`, :mod:`pyop.devnet.da_server`, :mod:`pyop.devnet.process` and the
small JSON-RPC client :mod:`pyop.devnet.rpc`. Every key here is a well-known TEST key.
"""
