"""The developer's Odoo tree, saved once in ``.odoo.env`` at the repository's root.

``.odoo.env`` is untracked (``.gitignore``): one ``NAME=value`` a line, ``#`` comments and
blank lines ignored, for the variables the test and benchmark commands read::

    ODOO_PATH=/home/me/src/odoo-17.0
    ODOO_PYTHON=/home/me/venvs/odoo17/bin/python
    ODOO_ADDONS_PATH=/home/me/src/odoo-17.0/addons

A variable already set in the environment wins over the file. Standard library only.
"""

import os

#: The variables the file may set (anything else in it is refused, so a typo is seen).
NAMES = ("ODOO_PATH", "ODOO_PYTHON", "ODOO_ADDONS_PATH")


def load(root):
    """Set the variables of ``root/.odoo.env`` that the environment does not set yet.

    Returns ``{name: value}`` of the values taken from the file; raises ``ValueError``
    naming the line of a malformed entry or an unknown variable.
    """
    path = os.path.join(root, ".odoo.env")
    if not os.path.exists(path):
        return {}
    taken = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, value = line.partition("=")
            name, value = name.strip(), value.strip().strip("'\"")
            if not sep or name not in NAMES:
                raise ValueError(
                    f".odoo.env line {number}: expected NAME=value with NAME one of "
                    f"{', '.join(NAMES)}, got {line!r}"
                )
            value = os.path.expanduser(value)
            if value and not os.environ.get(name):
                os.environ[name] = value
                taken[name] = value
    return taken
