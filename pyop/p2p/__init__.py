"""P2P: gossip of unsafe L2 blocks with op-node's libp2p network (specs/protocol/rollup-node-p2p.md;
op-node v1.19.6 ``op-node/p2p``), on py-libp2p.

One module per concern:

- :mod:`pyop.p2p.ssz`: the SSZ execution payload / envelope of each block version (V1-V4);
- :mod:`pyop.p2p.signing`: the sequencer's block signature (signing hash, sign, recover);
- :mod:`pyop.p2p.topics`: topics per fork, snappy, op-node's message id;
- :mod:`pyop.p2p.validation`: ACCEPT / IGNORE / REJECT of a gossiped block;
- :mod:`pyop.p2p.scoring`: op-node's "light" peer score, the REJECT penalty, bans;
- :mod:`pyop.p2p.runtime_config`: the unsafe block signer from the L1 SystemConfig;
- :mod:`pyop.p2p.identity`: the network key, peer ID, node ID;
- :mod:`pyop.p2p.host`: the libp2p host (TCP, noise, yamux/mplex, gossipsub) in its own trio thread;
- :mod:`pyop.p2p.node`: the asyncio side (deliver blocks, publish the sequencer's, payload_by_number);
- :mod:`pyop.p2p.rpc_api`: ``opp2p_*``;
- :mod:`pyop.p2p.metrics`: what the layer reports to op-node's P2P metric families.

Discovery: there is no maintained Python discv5 implementation, so pyop dials ``--p2p.static``
peers only.
"""
