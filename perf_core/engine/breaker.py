"""A small circuit breaker for optional backends (Redis, the read replica).

Closed: calls go through. After ``threshold`` consecutive failures it opens for
``cooldown_s``: callers skip the backend at once instead of paying a timeout each. After the
cooldown one call is let through (half-open); success closes it, failure opens it again.
Thread-safe; one per process and backend.
"""

import logging
import threading
import time

_logger = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(self, name, threshold=3, cooldown_s=10.0, clock=time.monotonic):
        self.name = name
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at = None
        self._probing = False
        self.last_error = None
        self.trips = 0

    @property
    def state(self):
        with self._lock:
            return self._state()

    def _state(self):
        if self._opened_at is None:
            return CLOSED
        if self._clock() - self._opened_at >= self.cooldown_s:
            return HALF_OPEN
        return OPEN

    def allow(self):
        """May a call go to the backend now?"""
        with self._lock:
            state = self._state()
            if state == CLOSED:
                return True
            if state == HALF_OPEN and not self._probing:
                self._probing = True
                return True
            return False

    def success(self):
        with self._lock:
            if self._opened_at is not None:
                _logger.info("%s is reachable again", self.name)
            self._failures = 0
            self._opened_at = None
            self._probing = False

    def failure(self, error):
        with self._lock:
            self._failures += 1
            self.last_error = str(error)
            was_probing = self._probing
            self._probing = False
            if was_probing or (self._opened_at is None and self._failures >= self.threshold):
                if self._opened_at is None:
                    # One warning per outage, not one per call.
                    _logger.warning(
                        "%s unavailable, skipping it for %.0f s: %s",
                        self.name,
                        self.cooldown_s,
                        error,
                    )
                    self.trips += 1
                self._opened_at = self._clock()

    def snapshot(self):
        with self._lock:
            return {
                "name": self.name,
                "state": self._state(),
                "consecutive_failures": self._failures,
                "trips": self.trips,
                "last_error": self.last_error,
            }
