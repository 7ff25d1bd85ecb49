"""Who may read the detail of ``/health`` (and, later, ``/metrics``): a bearer token.

The token is compared in constant time (:func:`hmac.compare_digest`) so its length and
prefix cannot be probed; no token configured means no token ever matches.
"""

import hmac
import ipaddress

BEARER = "bearer "


def bearer_token(authorization):
    """The token of an ``Authorization: Bearer <token>`` header, or ``""``."""
    value = (authorization or "").strip()
    if value[: len(BEARER)].lower() != BEARER:
        return ""
    return value[len(BEARER) :].strip()


def token_matches(expected, given):
    """Constant-time comparison; an empty expected token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def parse_networks(text):
    """Networks of a comma-separated allow-list; a bad entry raises ``ValueError``."""
    return [
        ipaddress.ip_network(part.strip(), strict=False)
        for part in (text or "").split(",")
        if part.strip()
    ]


def address_allowed(address, networks):
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)
