from . import health, metrics
