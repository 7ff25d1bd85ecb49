from . import test_generator, test_schema_drift
