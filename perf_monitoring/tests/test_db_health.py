"""System Health → Database: every check and view on the real database, as a manager."""

import datetime
import threading
import time
import uuid

import psycopg2
from psycopg2 import errors, sql

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.sql_db import connection_info_for
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

from ..engine import db_checks

DB_MODELS = (
    "perf.db.check",
    "perf.db.query",
    "perf.db.statement.snapshot",
    "perf.db.activity",
    "perf.db.backend.action",
    "perf.db.connection",
    "perf.db.table",
    "perf.db.size.snapshot",
    "perf.db.sequence",
    "perf.db.database",
    "perf.db.job",
)


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


class DbHealthCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="db_health_manager",
            groups="base.group_user,perf_core.perf_core_group_manager",
        )
        cls.user = new_test_user(
            cls.env, login="db_health_user", groups="base.group_user,perf_core.perf_core_group_user"
        )

    def connect(self, autocommit=False):
        """A connection of its own to this test database (another session, as a client)."""
        _db, info = connection_info_for(self.env.cr.dbname)
        connection = psycopg2.connect(**info)
        connection.autocommit = autocommit
        self.addCleanup(connection.close)
        return connection

    def own_pid(self):
        self.env.cr.execute("SELECT pg_backend_pid()")
        return self.env.cr.fetchone()[0]

    def as_manager(self, model):
        """``model`` as a manager, read anew (a live view's rows keep their ids, so values
        cached by an earlier read in this transaction would be shown otherwise)."""
        self.env.invalidate_all()
        return self.env[model].with_user(self.manager)

    def set_setting(self, key, value):
        self.env["ir.config_parameter"].sudo().set_param(key, value)


@tagged("post_install", "-at_install")
class TestDbChecksAndSettings(DbHealthCase):
    def test_every_check_is_listed_with_its_threshold(self):
        checks = self.as_manager("perf.db.check").search([])
        by_name = {c.name: c for c in checks}
        self.assertGreaterEqual(
            set(by_name),
            {
                "long_running",
                "idle_in_transaction",
                "blocked",
                "connections",
                "table_cache_hit",
                "index_cache_hit",
                "slow_queries",
                "sequences",
                "xid_age",
                "replication",
                "overdue_crons",
            },
        )
        self.assertEqual(by_name["long_running"].threshold, 60)
        self.assertEqual(by_name["xid_age"].threshold, 1500000000)
        self.assertEqual(by_name["connections"].threshold, 80)
        self.set_setting("perf_monitoring.db_long_running_s", "7")
        self.set_setting("perf_monitoring.db_connections_pct", "1")
        by_name = {c.name: c for c in self.as_manager("perf.db.check").search([])}
        self.assertEqual(by_name["long_running"].threshold, 7)
        _used, maximum, _pct = db_checks.connection_total(self.env.cr)
        self.assertEqual(by_name["connections"].threshold, 1)
        self.assertIn(f"of max_connections {maximum}", by_name["connections"].detail)

    def test_settings_are_validated_whoever_writes_them(self):
        with self.assertRaises(ValidationError):
            self.set_setting("perf_monitoring.db_connections_pct", "0")
        with self.assertRaises(ValidationError):
            self.set_setting("perf_monitoring.db_statement_retention_days", "many")
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"perf_db_sequence_pct": 101})
        settings = self.env["res.config.settings"].create(
            {"perf_db_long_running_s": 30, "perf_db_xid_age_max": 1200000000}
        )
        settings.execute()
        thresholds = self.env["perf.db.check"]._db_thresholds()
        self.assertEqual(thresholds["long_running_s"], 30)
        self.assertEqual(thresholds["xid_age_max"], 1200000000)
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="perf_monitoring_db_settings"', arch)
        self.assertIn("perf_db_long_running_s", arch)


@tagged("post_install", "-at_install")
class TestDbQueries(DbHealthCase):
    def preloaded(self):
        self.env.cr.execute("SHOW shared_preload_libraries")
        return "pg_stat_statements" in self.env.cr.fetchone()[0]

    def test_without_the_extension_the_page_says_what_to_enable(self):
        self.env.cr.execute("DROP EXTENSION IF EXISTS pg_stat_statements")
        action = self.as_manager("perf.db.query").action_open_queries()
        self.assertIn("unavailable", action["name"])
        self.assertIn("CREATE EXTENSION pg_stat_statements;", action["help"])
        self.assertIn(self.env.cr.dbname, action["help"])
        # Everything else still works: the view, the cron, the checks.
        self.as_manager("perf.db.query").search([])
        result = self.env["perf.db.statement.snapshot"]._cron_snapshot()
        self.assertEqual(result["stored"], 0)
        slow = self.as_manager("perf.db.check").search([("name", "=", "slow_queries")])
        self.assertEqual(slow.status, "unavailable")
        self.assertIn("CREATE EXTENSION", slow.detail)
        self.assertTrue(self.as_manager("perf.db.activity").search([]))

    def test_not_preloaded_is_detected_and_explained(self):
        status = db_checks.statements_status(self.env.cr)
        self.assertEqual(status.preloaded, self.preloaded())
        status.preloaded = False
        self.assertIn("shared_preload_libraries", db_checks.statements_notice(status)[0])

    def test_deltas_over_the_last_hour_and_totals_since_reset(self):
        if not self.preloaded():
            self.skipTest("this PostgreSQL does not preload pg_stat_statements")
        cr = self.env.cr
        cr.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        probe = f"perf_probe_{uuid.uuid4().hex[:8]}"
        statement = sql.SQL("SELECT 1 + %s AS {}").format(sql.Identifier(probe))
        for _ in range(3):
            cr.execute(statement, (1,))
        hour_ago = fields.Datetime.now() - datetime.timedelta(hours=1)
        self.assertGreater(db_checks.snapshot_statements(cr, hour_ago), 0)
        for _ in range(2):
            cr.execute(statement, (1,))
        result = self.env["perf.db.statement.snapshot"]._cron_snapshot()
        self.assertGreater(result["stored"], 0)
        Query = self.as_manager("perf.db.query")
        hourly = Query.search([("time_window", "=", "hour"), ("query", "ilike", probe)])
        self.assertEqual(hourly.mapped("calls"), [2.0])
        self.assertEqual(hourly.period_start, hour_ago.replace(microsecond=0))
        since_reset = Query.search([("time_window", "=", "reset"), ("query", "ilike", probe)])
        self.assertEqual(since_reset.mapped("calls"), [5.0])
        action = Query.action_open_queries()
        self.assertIn("statistics since", action["name"])
        self.assertNotIn("CREATE EXTENSION", action["help"])
        # The retention purges old snapshots (14 days by default).
        self.env["perf.db.statement.snapshot"].flush_model()
        cr.execute(
            "UPDATE perf_db_statement_snapshot SET taken_at = taken_at - interval '15 days' "
            "WHERE taken_at = %s",
            (hour_ago,),
        )
        self.assertGreater(self.env["perf.db.statement.snapshot"]._cron_snapshot()["purged"], 0)


@tagged("post_install", "-at_install")
class TestDbLiveSessions(DbHealthCase):
    def setUp(self):
        super().setUp()
        self.table = f"perf_t_lock_{uuid.uuid4().hex[:8]}"
        setup = self.connect(autocommit=True)
        with setup.cursor() as cr:
            cr.execute(sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier(self.table)))

        def drop():
            with setup.cursor() as cr:
                cr.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(self.table)))

        self.addCleanup(drop)

    def confirm(self, pid, kind, reason="test"):
        method = "action_cancel_backend" if kind == "cancel" else "action_terminate_backend"
        record = self.as_manager("perf.db.activity").browse(pid)
        action = getattr(record, method)()
        self.assertEqual(action["res_model"], "perf.db.backend.wizard")
        wizard = (
            self.env["perf.db.backend.wizard"]
            .with_user(self.manager)
            .with_context(**action["context"])
            .create({"reason": reason})
        )
        return wizard, wizard.action_confirm()

    def test_blocked_query_idle_in_transaction_cancel_and_terminate(self):
        _db, info = connection_info_for(self.env.cr.dbname)
        holder, waiter = psycopg2.connect(**info), psycopg2.connect(**info)
        self._thread = None
        try:
            self._blocked_cancel_terminate(holder, waiter)
        finally:
            # The holder first (it releases the lock the waiter's thread may still wait for).
            holder.close()
            if self._thread and self._thread.ident is not None:
                self._thread.join(10)
            waiter.close()

    def _blocked_cancel_terminate(self, holder, waiter):
        holder_cr = holder.cursor()
        holder_cr.execute(
            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(self.table))
        )
        outcome = {}

        def blocked_select():
            try:
                with waiter.cursor() as cr:
                    cr.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(self.table)))
                outcome["error"] = None
            except psycopg2.Error as error:
                outcome["error"] = type(error)

        thread = self._thread = threading.Thread(target=blocked_select)
        thread.start()
        holder_pid, waiter_pid = holder.get_backend_pid(), waiter.get_backend_pid()
        self.set_setting("perf_monitoring.db_idle_in_transaction_s", "0")
        self.set_setting("perf_monitoring.db_long_running_s", "0")
        Activity = self.as_manager("perf.db.activity")
        self.assertTrue(
            wait_for(lambda: Activity.search([("pid", "=", waiter_pid), ("is_blocked", "=", True)]))
        )
        Activity = self.as_manager("perf.db.activity")
        waiting = Activity.browse(waiter_pid)
        self.assertEqual(waiting.blocked_by, str(holder_pid))
        self.assertTrue(waiting.long_running)
        holding = Activity.browse(holder_pid)
        self.assertTrue(holding.is_blocking)
        self.assertTrue(holding.idle_in_transaction)
        self.assertEqual(holding.state, "idle in transaction")
        own_pid = self.own_pid()
        self.assertTrue(Activity.browse(own_pid).is_self)
        filtered = Activity.search([("idle_in_transaction", "=", True)])
        self.assertIn(holder_pid, filtered.ids)
        checks = {c.name: c for c in self.as_manager("perf.db.check").search([])}
        self.assertEqual(checks["blocked"].status, "warning")
        self.assertEqual(checks["idle_in_transaction"].status, "warning")
        self.assertEqual(checks["long_running"].status, "warning")

        wizard, notification = self.confirm(waiter_pid, "cancel")
        self.assertIn(self.table, wizard.target_info)
        self.assertEqual(notification["params"]["type"], "success")
        thread.join(10)
        self.assertIs(outcome["error"], errors.QueryCanceled)
        log = self.env["perf.db.backend.action"].search([("pid", "=", waiter_pid)])
        self.assertEqual(
            (log.kind, log.result, log.user_id, log.reason),
            ("cancel", "sent", self.manager, "test"),
        )
        self.assertIn(self.table, log.target_query)

        self.confirm(holder_pid, "terminate")
        self.assertTrue(
            wait_for(
                lambda: not self.as_manager("perf.db.activity").search([("pid", "=", holder_pid)])
            )
        )
        with self.assertRaises(psycopg2.OperationalError):
            holder_cr.execute("SELECT 1")
        log = self.env["perf.db.backend.action"].search([("pid", "=", holder_pid)])
        self.assertEqual((log.kind, log.result), ("terminate", "sent"))

    def test_never_the_own_session_nor_a_server_process(self):
        Log = self.env["perf.db.backend.action"].with_user(self.manager)
        own_pid = self.own_pid()
        with self.assertRaisesRegex(UserError, "this very session"):
            Log._signal(own_pid, "terminate")
        self.env.cr.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend' LIMIT 1"
        )
        server_pid = self.env.cr.fetchone()[0]
        with self.assertRaisesRegex(UserError, "not a client session"):
            Log._signal(server_pid, "terminate")
        with self.assertRaisesRegex(UserError, "Unknown action"):
            Log._signal(own_pid, "kill")
        self.assertFalse(self.env["perf.db.backend.action"].search([("pid", "=", own_pid)]))


@tagged("post_install", "-at_install")
class TestDbMaintenanceAndJobs(DbHealthCase):
    def test_sequence_near_its_limit(self):
        name = f"perf_t_seq_{uuid.uuid4().hex[:8]}"
        self.env.cr.execute(
            sql.SQL("CREATE SEQUENCE {} MAXVALUE 1000").format(sql.Identifier(name))
        )
        self.env.cr.execute("SELECT setval(%s, 950)", (name,))
        Sequence = self.as_manager("perf.db.sequence")
        row = Sequence.search([("sequence_name", "=", name)])
        self.assertEqual((row.last_value, row.max_value, row.near_limit), (950, 1000, True))
        self.assertAlmostEqual(row.used_pct, 95.0)
        self.assertIn(row, Sequence.search([("near_limit", "=", True)]))
        check = self.as_manager("perf.db.check").search([("name", "=", "sequences")])
        self.assertEqual(check.status, "warning")
        self.set_setting("perf_monitoring.db_sequence_pct", "96")
        Sequence = self.as_manager("perf.db.sequence")
        self.assertFalse(Sequence.search([("sequence_name", "=", name)]).near_limit)

    def test_tables_sizes_snapshot_and_wraparound(self):
        Table = self.as_manager("perf.db.table")
        partner = Table.search([("table_name", "=", "res_partner")])
        self.assertEqual(len(partner), 1)
        self.assertGreater(partner.total_bytes, 0)
        self.assertGreaterEqual(partner.total_bytes, partner.table_bytes)
        self.assertGreater(partner.xid_age, 0)
        self.assertFalse(partner.wraparound_risk)
        Snapshot = self.env["perf.db.size.snapshot"]
        Snapshot._cron_snapshot()
        Snapshot._cron_snapshot()
        today = Snapshot.search(
            [("taken_on", "=", fields.Date.today()), ("table_name", "=", "res_partner")]
        )
        self.assertEqual(len(today), 1)
        # A snapshot of a week ago gives the growth since then.
        Snapshot.flush_model()
        self.env.cr.execute(
            "INSERT INTO perf_db_size_snapshot (taken_on, table_name, total_bytes) "
            "VALUES (%s, 'res_partner', 0)",
            (fields.Date.today() - datetime.timedelta(days=8),),
        )
        partner = self.as_manager("perf.db.table").search([("table_name", "=", "res_partner")])
        self.assertEqual(partner.growth_7d_bytes, partner.total_bytes)
        current = self.as_manager("perf.db.database").search([("is_current", "=", True)])
        self.assertEqual(current.database, self.env.cr.dbname)
        self.set_setting("perf_monitoring.db_xid_age_max", "1000000")
        self.env.cr.execute("SELECT age(datfrozenxid) FROM pg_database WHERE datname = %s",
                            (self.env.cr.dbname,))  # fmt: skip
        risk = self.env.cr.fetchone()[0] > 1000000
        current = self.as_manager("perf.db.database").search([("is_current", "=", True)])
        self.assertEqual(current.wraparound_risk, risk)

    def test_connections_by_state_application_and_user(self):
        other = self.connect()
        other.cursor().execute("SET application_name = 'perf-db-health-test'")
        other.commit()
        Connection = self.as_manager("perf.db.connection")
        # The page covers every database of the server: look at this one's connections.
        rows = Connection.search(
            [
                ("application_name", "=", "perf-db-health-test"),
                ("database", "=", self.env.cr.dbname),
            ]
        )
        self.assertEqual(sum(rows.mapped("connections")), 1)
        self.assertEqual(rows.database, self.env.cr.dbname)
        self.assertEqual(rows.state, "idle")
        groups = Connection.read_group([], ["connections:sum"], ["state"])
        self.assertTrue(groups)
        action = Connection.action_open_connections()
        used, maximum, _pct = db_checks.connection_total(self.env.cr)
        self.assertIn(f"of {maximum}", action["name"])

    def test_overdue_cron_and_the_addons_queues(self):
        cron = self.env["ir.cron"].create(
            {
                "name": "perf db health overdue probe",
                "model_id": self.env.ref("base.model_res_partner").id,
                "state": "code",
                "code": "model.browse()",
                "nextcall": fields.Datetime.now() - datetime.timedelta(hours=3),
                "interval_number": 1,
                "interval_type": "days",
            }
        )
        Job = self.as_manager("perf.db.job")
        late = Job.search([("kind", "=", "cron"), ("name", "=", cron.name)])
        self.assertEqual(len(late), 1)
        self.assertTrue(late.warning)
        self.assertGreaterEqual(late.age_h, 2.9)
        cron.nextcall = fields.Datetime.now() + datetime.timedelta(hours=1)
        self.assertFalse(Job.search([("kind", "=", "cron"), ("name", "=", cron.name)]))
        tables = db_checks.existing_tables(self.env.cr)
        kinds = set(self.as_manager("perf.db.job").search([]).mapped("kind"))
        self.assertEqual("cache_purge" in kinds, "perf_cache_entry" in tables)
        if "perf_index" in tables:
            self.env["perf.index"].flush_model()
            self.env.cr.execute(
                "SELECT count(*) FROM perf_index WHERE active AND state IN "
                "('pending', 'building', 'failed', 'invalid')"
            )
            self.assertEqual("index_queue" in kinds, bool(self.env.cr.fetchone()[0]))

    def test_index_health_is_linked_when_perf_indexes_is_installed(self):
        Job = self.as_manager("perf.db.job")
        installed = self.env.ref("perf_indexes.perf_index_health_action", raise_if_not_found=False)
        if installed:
            self.assertEqual(Job.action_open_index_health()["res_model"], "perf.index.health")
            self.assertEqual(Job.action_open_index_health_menu()["res_model"], "perf.index.health")
        else:
            with self.assertRaises(UserError):
                Job.action_open_index_health()
            self.assertEqual(Job.action_open_index_health_menu()["tag"], "display_notification")


@tagged("post_install", "-at_install")
class TestDbAccessAndViews(DbHealthCase):
    ACTIONS = (
        "perf_monitoring.perf_db_check_action",
        "perf_monitoring.perf_db_query_action",
        "perf_monitoring.perf_db_activity_action",
        "perf_monitoring.perf_db_connection_action",
        "perf_monitoring.perf_db_table_action",
        "perf_monitoring.perf_db_size_snapshot_action",
        "perf_monitoring.perf_db_sequence_action",
        "perf_monitoring.perf_db_database_action",
        "perf_monitoring.perf_db_job_action",
        "perf_monitoring.perf_db_backend_action_action",
    )
    SERVER_ACTIONS = (
        "perf_monitoring.perf_db_query_action_open",
        "perf_monitoring.perf_db_connection_action_open",
        "perf_monitoring.perf_db_index_health_action_open",
    )

    def test_a_non_manager_cannot_open_the_views_nor_signal(self):
        for model in DB_MODELS:
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.user).search([])
        with self.assertRaises(AccessError):
            self.env["perf.db.backend.wizard"].with_user(self.user).create(
                {"pid": 1, "kind": "cancel"}
            )
        with self.assertRaises(AccessError):
            self.env["perf.db.backend.action"].with_user(self.user)._signal(1, "cancel")
        for xmlid in self.SERVER_ACTIONS:
            with self.assertRaises(AccessError, msg=xmlid):
                self.env.ref(xmlid).with_user(self.user).run()
        visible = self.env["ir.ui.menu"].with_user(self.user)._visible_menu_ids()
        self.assertNotIn(self.env.ref("perf_monitoring.perf_db_menu").id, visible)
        visible = self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids()
        self.assertIn(self.env.ref("perf_monitoring.perf_db_query_menu").id, visible)

    def test_every_view_of_every_action_loads_and_reads_as_manager(self):
        for xmlid in self.ACTIONS:
            action = self.env.ref(xmlid)
            Model = self.env[action.res_model].with_user(self.manager)
            modes = action.view_mode.split(",")
            views = Model.get_views([(False, mode) for mode in modes] + [(False, "search")])
            for mode in modes:
                self.assertIn(mode, views["views"], xmlid)
            field_names = list(views["models"][action.res_model])
            Model.search_read([], field_names, limit=80)
            if "pivot" in modes or "graph" in modes:
                Model.read_group([], [], [])
        for xmlid in self.SERVER_ACTIONS:
            result = self.env.ref(xmlid).with_user(self.manager).run()
            self.assertIn(result["type"], ("ir.actions.act_window", "ir.actions.client"), xmlid)


@tagged("post_install", "-at_install")
class TestDbWebClient(HttpCase):
    """What the web client asks when a manager opens each page (over real HTTP)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        new_test_user(
            cls.env,
            login="db_web_manager",
            groups="base.group_user,perf_core.perf_core_group_manager",
        )
        new_test_user(
            cls.env, login="db_web_user", groups="base.group_user,perf_core.perf_core_group_user"
        )

    def call_kw(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def test_each_page_opens_and_lists_as_a_manager_only(self):
        self.authenticate("db_web_manager", "db_web_manager")
        actions = []
        for xmlid in TestDbAccessAndViews.SERVER_ACTIONS:
            server_action = self.env.ref(xmlid)
            result = self.make_jsonrpc_request("/web/action/run", {"action_id": server_action.id})
            self.assertIn(result["type"], ("ir.actions.act_window", "ir.actions.client"), xmlid)
            if result["type"] == "ir.actions.act_window":
                actions.append(result)
        for xmlid in TestDbAccessAndViews.ACTIONS:
            actions.append(self.make_jsonrpc_request("/web/action/load", {"action_id": xmlid}))
        for action in actions:
            model = action["res_model"]
            modes = action["view_mode"].split(",")
            views = self.call_kw(
                model, "get_views", [[[False, mode] for mode in modes] + [[False, "search"]]]
            )
            if "tree" in modes:
                arch_fields = views["models"][model]
                self.call_kw(
                    model,
                    "web_search_read",
                    [],
                    {
                        "domain": [],
                        "specification": {name: {} for name in arch_fields},
                        "limit": 80,
                    },
                )
        self.authenticate("db_web_user", "db_web_user")
        with self.assertRaises(JsonRpcException):
            self.make_jsonrpc_request(
                "/web/action/run",
                {"action_id": self.env.ref(TestDbAccessAndViews.SERVER_ACTIONS[0]).id},
            )
        with self.assertRaises(JsonRpcException):
            self.call_kw(
                "perf.db.activity", "web_search_read", [], {"domain": [], "specification": {}}
            )
