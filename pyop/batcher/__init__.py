"""``pyop batcher``: the batch submitter (op-batcher) on pyop's codec and transaction manager.

specs/protocol/batcher.md. Modules, in data-flow order:

- :mod:`~pyop.batcher.rollup_client`: ``optimism_syncStatus`` / ``optimism_rollupConfig`` and
  L2 blocks, from any rollup node (never imports :mod:`pyop.node`);
- :mod:`~pyop.batcher.blocks`: an L2 block's batch data;
- :mod:`~pyop.batcher.sync_actions`: what to prune, load or clear after each sync status;
- :mod:`~pyop.batcher.channel` / :mod:`~pyop.batcher.channel_manager`: channels of singular or
  span batches (encoded by :mod:`pyop.codec`), frames, timeouts, tx bookkeeping;
- :mod:`~pyop.batcher.channel_config`: sizes, compressors, DA ``calldata``/``blobs``/``auto``;
- :mod:`~pyop.batcher.tx_data`: frames to calldata or blobs;
- :mod:`~pyop.batcher.driver`: the loops (load, publish via :mod:`pyop.txmgr`, receipts),
  alt-DA, admin start/stop/flush;
- :mod:`~pyop.batcher.service` / :mod:`~pyop.batcher.config`: flags, start-up checks, servers.
"""
