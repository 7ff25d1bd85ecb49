"""Glue between Odoo and the refresh engine: settings, own transactions, run records."""

import logging

import psycopg2
from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import _, api, fields, models, sql_db
from odoo.exceptions import UserError, ValidationError

from ..engine import dims, refresh, schema, sources, triggers
from ..engine import settings as agg_settings

_logger = logging.getLogger(__name__)


class PerfAggRefresher(models.AbstractModel):
    _name = "perf.agg.refresher"
    _description = "Performance Aggregates Refresh"

    # ------------------------------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------------------------------

    @api.model
    def _setting(self, key):
        return self.env["perf.tool.mixin"]._perf_setting(key)

    @api.model
    def _dimension_spec(self, field_name, strict=False):
        """The engine spec of a product.template field, or None.

        ``strict``: raise ``ValidationError`` for a missing or unsupported field (Settings);
        otherwise log and return None (a refresh never crashes on a bad mapping).
        """
        if not field_name:
            return None
        field = self.env["product.template"]._fields.get(field_name)
        error = None
        if field is None:
            error = _("Product Template has no field “%s”.", field_name)
        elif not field.store or field.type not in sources.DIMENSION_TYPES:
            error = _(
                "Field “%(field)s” (%(type)s) cannot be a dimension: it must be a stored "
                "field of type %(types)s.",
                field=field_name,
                type=field.type,
                types=", ".join(sources.DIMENSION_TYPES),
            )
        elif field.type == "many2one":
            comodel = self.env[field.comodel_name]
            name_field = comodel._fields.get(comodel._rec_name or "")
            if not name_field or not name_field.store or name_field.type != "char":
                error = _("The records of “%s” have no stored name to show.", field_name)
        if error:
            if strict:
                raise ValidationError(error)
            _logger.warning("perf_aggregates: %s", error)
            return None
        spec = {"column": field.name, "type": field.type}
        if field.type == "many2one":
            comodel = self.env[field.comodel_name]
            spec.update(comodel_table=comodel._table, name_column=comodel._rec_name)
        return spec

    @api.model
    def _engine_config(self):
        get = self.env["ir.config_parameter"].sudo().get_param
        pattern = get(agg_settings.SEASON_PATTERN_KEY, agg_settings.DEFAULT_SEASON_PATTERN)
        return {
            "dimensions": {
                dim: self._dimension_spec(get(key))
                for dim, key in agg_settings.DIMENSION_KEYS.items()
            },
            "season_pattern": pattern or "",
            "color_attribute_id": self._setting("perf_aggregates.color_attribute_id"),
        }

    # ------------------------------------------------------------------------------------------
    # Units of work, each in its own transaction
    # ------------------------------------------------------------------------------------------

    @api.model
    def _run_unit(self, kind, company_id, work):
        """Run ``work(cr)`` (returns a list of range statistics) in its own transaction and
        record the run; a failure is rolled back and recorded as failed, then re-raised."""
        self.env.flush_all()
        registry = self.env.registry
        try:
            # We open this cursor: the unit commits (or rolls back) on leaving the block, so
            # a range is replaced entirely or not at all, independently of the caller.
            with registry.cursor() as cr:
                self._read_committed(cr)
                stats = work(cr)
                merged = refresh.merge_stats(stats)
                merged.setdefault("company_id", company_id)
                refresh.record_run(cr, kind, merged)
        except (psycopg2.Error, refresh.RefreshError) as error:
            _logger.exception("perf_aggregates: %s run failed", kind)
            # Another short transaction of ours: the failed one is gone.
            with registry.cursor() as cr:
                refresh.record_run(
                    cr, kind, {"company_id": company_id}, status="failed", error=str(error)
                )
            raise
        return merged

    @api.model
    def _read_committed(self, cr):
        """Run the unit opened on ``cr`` in READ COMMITTED, before its first statement.

        A unit waits for the refresh lock; under Odoo's REPEATABLE READ its snapshot would
        date from before the wait, and writing rows that a fold (or another unit) changed
        meanwhile (the dirty log it consumed, the day rows it replaced) would fail with a
        serialization error. Under the lock, each statement must see the latest committed
        state. Odoo's ``Cursor`` sets REPEATABLE READ on the connection when it is opened,
        so the change never outlives this cursor. A test cursor shares the test's
        transaction: it stays as it is.
        """
        if isinstance(cr, sql_db.Cursor):
            cr._cnx.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)

    @api.model
    def refresh_range(self, date_from, date_to, company_ids=None, kind="manual"):
        """Refresh a day range for the given companies (default: all), one transaction each."""
        date_from, date_to = fields.Date.to_date(date_from), fields.Date.to_date(date_to)
        self._check_range(date_from, date_to)
        config = self._engine_config()
        results = []
        for company_id in company_ids or self._company_ids():
            results.append(
                self._run_unit(
                    kind,
                    company_id,
                    lambda cr, cid=company_id: [
                        refresh.refresh_range(cr, cid, date_from, date_to, config)
                    ],
                )
            )
        self.env.invalidate_all()
        return results

    @api.model
    def refresh_dims(self):
        config = self._engine_config()
        self.env.flush_all()
        # We open this cursor: the dimension table is replaced in one transaction of its own.
        with self.env.registry.cursor() as cr:
            stats = dims.refresh_dims(cr, config)
            refresh.record_run(
                cr,
                "dimensions",
                {
                    "row_count": stats["row_count"],
                    "duration_ms": stats["duration_ms"],
                    "warnings": stats["warnings"],
                },
            )
        self.env.invalidate_all()
        return stats

    @api.model
    def _cron_nightly(self):
        """Nightly: dimensions, then per company its dirty days plus the lookback window."""
        self._attach_triggers()
        self.refresh_dims()
        config = self._engine_config()
        lookback = self._setting("perf_aggregates.lookback_days")
        for company_id in self._company_ids():
            try:
                self._run_unit(
                    "nightly",
                    company_id,
                    lambda cr, cid=company_id: refresh.run_nightly_company(
                        cr, cid, config, lookback_days=lookback
                    ),
                )
            except (psycopg2.Error, refresh.RefreshError):
                continue  # recorded as failed; the other companies still refresh
        self.env.invalidate_all()

    @api.model
    def _fold(self, company_ids=None, max_age_s=None):
        """Fold today's writes into the aggregates of ``company_ids`` (default: the user's)
        when their last fold is older than half of ``max_age_s`` (default: the
        ``live_refresh_s`` setting; 0: now, whatever its age) — before a tool or a view
        reads them. The one piece of code behind the tools' freshness and the views'.

        In the caller's transaction, so the read that follows sees the folded rows; under a
        savepoint, so a failure leaves the read untouched; never waiting: when another
        refresh holds the lock (or the fold fails), the read serves the last folded state.

        Returns ``{"fold": "folded" | "fresh" | "busy", "folded": [company ids]}``.
        """
        if company_ids is None:
            company_ids = self.env.companies.ids
        if max_age_s is None:
            max_age_s = self._setting(agg_settings.LIVE_REFRESH_KEY)
        company_ids = sorted(set(company_ids))
        if not company_ids or (max_age_s > 0 and not self._fold_due(company_ids, max_age_s)):
            return {"fold": "fresh", "folded": []}
        self.env.flush_all()
        cr = self.env.cr
        try:
            with cr.savepoint():
                outcome = refresh.fold(cr, company_ids, self._engine_config(), max_age_s=max_age_s)
        except (psycopg2.Error, refresh.RefreshError) as error:
            # A statement timeout, a lock timeout, a read-only replica: the read goes on
            # with what is already folded.
            _logger.info("perf_aggregates: today's figures not folded: %s", error)
            return {"fold": "busy", "folded": [], "error": str(error)}
        if outcome.get("busy"):
            _logger.debug("perf_aggregates: a refresh holds the lock, fold skipped")
            return {"fold": "busy", "folded": []}
        folded = list(outcome.get("folded") or ())
        # "folded" also when only dirty days on or before the watermark were refreshed (a
        # cancelled order of an older day): the aggregates changed either way.
        changed = bool(folded or outcome.get("stats"))
        if changed:
            # Rows written by SQL: the ORM must not serve what it cached before.
            self.env["perf.sales.daily"].invalidate_model()
        return {"fold": "folded" if changed else "fresh", "folded": folded}

    @api.model
    def _fold_due(self, company_ids, max_age_s):
        """Whether :meth:`_fold` would fold anything (one small query, no savepoint: the
        common case of a read shortly after the last fold)."""
        registry = self.env.registry
        if not getattr(registry, "_perf_agg_fold_table", False):
            if not schema.table_exists(self.env.cr, "perf_agg_fold"):
                return False
            registry._perf_agg_fold_table = True  # dropped only with the module
        return refresh.fold_due(self.env.cr, company_ids, max_age_s)

    @api.model
    def _refresh_live(self):
        """Before a Sales Analytics view reads: fold the user's companies (see
        :meth:`_fold`), within the ``live_refresh_s`` staleness (0: exact, fold at every
        read)."""
        return self._fold()

    # ------------------------------------------------------------------------------------------

    @api.model
    def _company_ids(self):
        return self.env["res.company"].sudo().with_context(active_test=False).search([]).ids

    @api.model
    def _check_range(self, date_from, date_to):
        today = fields.Date.context_today(self)
        try:
            refresh.check_range(date_from, date_to, today)
        except refresh.RefreshError as error:
            raise UserError(_("Cannot refresh this range: %s", error)) from None

    @api.model
    def _attach_triggers(self):
        """Attach the dirty-day triggers where missing (a module installed later)."""
        if schema.table_exists(self.env.cr, "perf_agg_dirty") and triggers.missing(self.env.cr):
            triggers.attach(self.env.cr)
