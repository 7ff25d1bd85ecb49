from . import test_schema_drift
