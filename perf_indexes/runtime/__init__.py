"""perf_indexes' process layer (see ``perf_core.runtime`` for the three layers' contract).

:mod:`.build_queue`: index builds scheduled after commit, run by one background thread per
database and process on an autocommit connection of its own. Only models, hooks and
controllers import it.
"""
