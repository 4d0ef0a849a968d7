"""Service plumbing shared by pyop's long-running services (batcher, proposer): the Python
counterpart of Go's ``op-service`` packages.

- :mod:`pyop.opservice.flags`: urfave/cli-style flags with ``OP_<SERVICE>_*`` environment
  variables (op-service ``cliapp``); a flag a service does not support is refused by name.
- :mod:`pyop.opservice.logs`: op-service ``log`` formats (``text``/``logfmt``/``json``).
- :mod:`pyop.opservice.metrics`: Prometheus text exposition (op-service ``metrics``).
- :mod:`pyop.opservice.rpc`: a JSON-RPC 2.0 HTTP server (op-service ``rpc``).

Floor 1: imports only :mod:`pyop.primitives`, so every service package may use it.
"""
