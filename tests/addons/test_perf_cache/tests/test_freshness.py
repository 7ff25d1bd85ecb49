"""Zero stale results across real, committed transactions: ORM and raw SQL writers."""

import random
from contextlib import closing

from odoo import SUPERUSER_ID, api
from odoo.sql_db import db_connect
from odoo.tests import tagged
from odoo.tests.common import TransactionCase, new_test_user

from odoo.addons.perf_cache.runtime import cache_state
from odoo.addons.perf_core.runtime import call_log

ITERATIONS = 1000


@tagged("post_install", "-at_install")
class TestFreshness(TransactionCase):
    """Real connections that commit when their block ends (like separate workers)."""

    def test_interleaved_orm_and_sql_writes_never_stale(self):
        db = self.env.cr.dbname
        cache_state.reset()
        self.addCleanup(cache_state.reset)
        with db_connect(db).cursor() as setup_cr:
            env = api.Environment(setup_cr, SUPERUSER_ID, {})
            user = new_test_user(
                env,
                login=f"fresh_{random.randrange(10**9)}",
                groups="base.group_user,perf_core.perf_core_group_user",
            )
            uid, company = user.id, env.company.id
        rnd = random.Random(11)
        stale = fresh_hits = 0
        try:
            for i in range(ITERATIONS):
                with db_connect(db).cursor() as wcr:
                    if rnd.random() < 0.5:
                        items = api.Environment(wcr, SUPERUSER_ID, {})["test.perf.cache.item"]
                        first = items.search([("name", "=like", "orm%")], limit=1)
                        if i % 3 or not first:
                            items.create(
                                {
                                    "name": f"orm{i}",
                                    "value": rnd.randrange(50),
                                    "company_id": company,
                                }
                            )
                        else:
                            first.value += 1
                        items.env.flush_all()
                    else:
                        wcr.execute(
                            "INSERT INTO test_perf_cache_item (name, value, company_id) "
                            "VALUES (%s, %s, %s)",
                            (f"sql{i}", rnd.randrange(50), company),
                        )
                with closing(db_connect(db).cursor()) as rcr:
                    tool = api.Environment(rcr, uid, {})["perf.tool.test_cache_items"]
                    result = tool.run({})
                    rcr.execute(
                        "SELECT count(*), COALESCE(sum(value), 0) "
                        "FROM test_perf_cache_item WHERE company_id = %s",
                        (company,),
                    )
                    count, total = rcr.fetchone()
                    truth = [[count, int(total)]]
                    stale += result["rows"] != truth
                    # asked again before the next write: served from cache, still exact
                    fresh_hits += tool.run({})["rows"] == truth
                    rcr.rollback()
        finally:
            # Calls and cache statistics wait in this process's buffers for the background
            # writer: write them before their user goes (a later batch would break on the
            # foreign key, and be lost with an error in the log).
            call_log.flush_call_log(db)
            cache_state.flush(dbname=db)
            with db_connect(db).cursor() as clean_cr:
                # The background flusher may still be writing this user's calls: under
                # REPEATABLE READ, deleting the user then fails (the foreign key's SET NULL
                # meets rows committed after our snapshot); a call written after the delete
                # gets a NULL user from the writer.
                clean_cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                clean_cr.execute(
                    "DELETE FROM test_perf_cache_item WHERE name ~ '^(orm|sql)[0-9]+$'"
                )
                clean_cr.execute("DELETE FROM perf_tool_call WHERE user_id = %s", (uid,))
                clean_cr.execute("DELETE FROM perf_cache_entry WHERE user_id = %s", (uid,))
                clean_cr.execute("DELETE FROM res_users WHERE id = %s", (uid,))
        self.assertEqual(stale, 0)
        self.assertEqual(fresh_hits, ITERATIONS)
