"""Floor 4: ``pyop node``, the rollup node service (op-node equivalent).

- :mod:`pyop.node.config`: op-node's command-line flags and ``OP_NODE_*`` environment variables.
- :mod:`pyop.node.l1_watcher`: L1 head / safe / finalized polling, confirmation depth, reorgs.
- :mod:`pyop.node.driver`: the driver loop (derivation, sequencing, finality, resets).
- :mod:`pyop.node.api` + :mod:`pyop.node.rpc_server`: the rollup JSON-RPC API (``optimism_*``,
  ``admin_*``) over HTTP.
- :mod:`pyop.node.safedb`: safe head by L1 block, on disk (``optimism_safeHeadAtL1Block``).
- :mod:`pyop.node.metrics`, :mod:`pyop.node.logs`: Prometheus exposition, logfmt logs.
- :mod:`pyop.node.service`: wires it all together (``pyop node ...``).
"""
