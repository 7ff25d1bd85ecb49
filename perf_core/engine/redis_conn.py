"""Redis connection for the toolkit: short timeouts behind a circuit breaker.

Redis is an optional accelerator. :meth:`RedisConnector.call` runs a command and returns
``(True, value)``, or ``(False, None)`` when Redis is not configured, unreachable or failing,
after counting the failure; it never raises a connection error to the caller.
"""

import threading

import redis

from .breaker import CircuitBreaker

#: Seconds: a cache lookup must never cost the user more than a few milliseconds.
SOCKET_TIMEOUT_S = 0.05
CONNECT_TIMEOUT_S = 0.1


class RedisConnector:
    def __init__(
        self, url, socket_timeout=SOCKET_TIMEOUT_S, connect_timeout=CONNECT_TIMEOUT_S, breaker=None
    ):
        self.url = url or ""
        self.breaker = breaker or CircuitBreaker("Redis")
        self._client = None
        self._lock = threading.Lock()
        self._socket_timeout = socket_timeout
        self._connect_timeout = connect_timeout
        self.errors = 0

    @property
    def configured(self):
        return bool(self.url)

    def client(self):
        with self._lock:
            if self._client is None:
                # from_url validates the URL: a malformed one raises ValueError here.
                self._client = redis.Redis.from_url(
                    self.url,
                    socket_timeout=self._socket_timeout,
                    socket_connect_timeout=self._connect_timeout,
                    retry_on_timeout=False,
                    health_check_interval=30,
                )
            return self._client

    def call(self, method, *args, **kwargs):
        """Run ``client.<method>(*args)``; ``(ok, value)``, never a connection error."""
        if not self.configured or not self.breaker.allow():
            return False, None
        try:
            value = getattr(self.client(), method)(*args, **kwargs)
        except (redis.RedisError, OSError, ValueError) as error:
            self.errors += 1
            self.breaker.failure(error)
            return False, None
        self.breaker.success()
        return True, value

    def status(self):
        """State for monitoring: configured, reachable (live ping), breaker."""
        ok, _pong = self.call("ping")
        info = self.breaker.snapshot()
        info.update(
            configured=self.configured, reachable=ok, errors=self.errors, url=redact(self.url)
        )
        return info


def redact(url):
    """The URL without its password, for display."""
    if not url or "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user + ':***@' if user else '***@'}{host}"
