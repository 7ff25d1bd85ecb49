"""perf_core's process layer: what lives as long as an Odoo worker process.

The toolkit's three layers, in every addon:

- ``engine/``: plain Python, no ``odoo`` import; takes a DB-API cursor or connection and
  plain values (SQL builders, codecs, algorithms).
- ``runtime/`` (this package): per-process state — singletons, background threads,
  connections the toolkit opens itself (Redis, the replica, autocommit connections,
  short-lived log cursors), post-commit scheduling. Only models, hooks and controllers
  import it; only it opens connections outside Odoo's request cursor or starts threads.
  (A model may still open ``registry.cursor()`` for a unit of work that must commit on its
  own, saying why in a comment, as Odoo's guidelines ask.)
- the Odoo layer: ``models/``, ``views/``, ``security/``, ``data/``, ``controllers/``,
  ``hooks.py``, ``tests/``: thin glue.

Here: :mod:`.connections` (this process's Redis connector and replica router) and
:mod:`.call_log` (the buffered call log and the background flush thread that other addons'
buffers share).
"""
