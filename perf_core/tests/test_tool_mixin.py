from unittest.mock import patch

from odoo.tests import tagged

from .common import PerfCoreCase


@tagged("post_install", "-at_install")
class TestToolMixin(PerfCoreCase):
    def test_tools_are_exact_unless_they_say_otherwise(self):
        mixin = self.env["perf.tool.mixin"]
        info = mixin.tool_info()
        self.assertEqual(info["max_staleness_s"], 0)
        self.assertEqual(info["live_tables"], [])
        self.assertEqual(mixin._tool_staleness_s(), 0)

    def test_staleness_and_live_tables_are_in_tool_info(self):
        cls = type(self.env["perf.tool.mixin"])
        with (
            patch.object(cls, "_tool_max_staleness_s", 45),
            patch.object(cls, "_tool_live_tables", ("sale_order_line",)),
        ):
            info = self.env["perf.tool.mixin"].tool_info()
        self.assertEqual(info["max_staleness_s"], 45)
        self.assertEqual(info["live_tables"], ["sale_order_line"])
