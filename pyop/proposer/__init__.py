"""``pyop proposer``: op-proposer in Python (floor 6; never imports :mod:`pyop.node`).

Posts L2 output roots to L1, in either of op-proposer's modes:

- **L2OutputOracle** (``--l2oo-address``): the next block to propose is the oracle's
  ``nextBlockNumber()`` (``latestBlockNumber() + SUBMISSION_INTERVAL``);
  ``proposeL2Output(outputRoot, l2BlockNumber, l1BlockHash, l1BlockNumber)``
  (op-proposer v1.13.7 ``FetchL2OOOutput``, the last release with this mode).
- **DisputeGameFactory** (``--game-factory-address``, ``--game-type``, ``--proposal-interval``):
  when this proposer created no game of that type within the interval, the current safe (or
  finalized) block is proposed with ``create(gameType, rootClaim, extraData = uint256(block))``
  and the bond ``initBonds(gameType)`` (op-proposer v1.19.6 ``FetchDGFOutput``).

Unlike op-proposer, which takes the output root from the rollup node's
``optimism_outputAtBlock``, pyop proposer computes every output root itself from the L2
execution client (:mod:`pyop.proposer.output`, with :mod:`pyop.protocol.output_root`) and only
cross-checks it against the rollup node: on a mismatch it refuses to propose and logs both.

Modules: :mod:`~pyop.proposer.output` (output roots), :mod:`~pyop.proposer.contracts` (the two
L1 contracts' calls), :mod:`~pyop.proposer.driver` (the proposal loop),
:mod:`~pyop.proposer.config` (op-proposer's flags and ``OP_PROPOSER_*`` variables),
:mod:`~pyop.proposer.service` (admin RPC, metrics, start-up checks, ``main``). L1 transactions go
through :mod:`pyop.txmgr`, the code base's one transaction manager.
"""
