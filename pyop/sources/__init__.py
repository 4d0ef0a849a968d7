"""Data sources for the derivation pipeline and the tools (floor 1).

- :mod:`pyop.sources.rpc`: asyncio JSON-RPC client (batching, retries with backoff, batch-limit
  fallback, typed errors), a plain HTTP client, and :class:`~pyop.sources.rpc.LoopThread`
  (a private event loop so synchronous code can call the async clients).
- :mod:`pyop.sources.blockjson`: block / tx / receipt JSON to pyop types, with block-hash and
  trie-root verification.
- :mod:`pyop.sources.l1` (``AsyncL1Client``, ``L1RPCSource``), :mod:`pyop.sources.l2`
  (``AsyncL2Client``, ``L2RPCSource``), :mod:`pyop.sources.beacon` (``AsyncBeaconClient``,
  ``BeaconBlobSource``), :mod:`pyop.sources.altda` (``AltDAClient``, ``AltDAHTTPSource``): the
  async clients and the synchronous facades implementing the Protocols of
  :mod:`pyop.sources.interfaces` (I/O errors become ``TemporaryError``, missing data
  ``NotFound``).
- :mod:`pyop.sources.memory`: in-memory fakes (tests, fixtures).
"""
