"""The teaching dashboard (``pyop dashboard``, ``pyop devnet up --dashboard``, ``make run``).

Floor 7: reads a running devnet over RPC and its files (:mod:`pyop.dashboard.collector`), starts
real faults through :mod:`pyop.devnet.live_faults` / :mod:`pyop.devnet.bridge`
(:mod:`pyop.dashboard.scenarios`), explains derivation with the pipeline itself
(:mod:`pyop.dashboard.explorer`), and serves a plain HTML/JS page with server-sent events
(:mod:`pyop.dashboard.server`). It never reaches into a running service's objects.
"""
