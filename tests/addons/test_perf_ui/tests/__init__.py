from . import test_ui_crawl
