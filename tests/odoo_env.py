"""The developer's Odoo tree, saved once in an ``odoo.env`` file outside version control.

The first of these files that exists is read:

1. ``$PERF_ODOO_ENV`` (a path);
2. ``.odoo.env`` at the repository's root (untracked: ``.gitignore``);
3. ``~/.config/perf-toolkit/odoo.env`` — kept by every clone on the machine, so a fresh
   clone (the CI's) finds the Odoo tree too.

One ``NAME=value`` a line, ``#`` comments and blank lines ignored, for the variables the
test and benchmark commands read::

    ODOO_PATH=/home/me/src/odoo-17.0
    ODOO_PYTHON=/home/me/venvs/odoo17/bin/python
    ODOO_ADDONS_PATH=/home/me/src/odoo-17.0/addons

A variable already set in the environment wins over the file. Standard library only.
"""

import os

#: The variables the file may set (anything else in it is refused, so a typo is seen).
NAMES = ("ODOO_PATH", "ODOO_PYTHON", "ODOO_ADDONS_PATH")


def candidates(root):
    """The files looked for, in order."""
    paths = [os.environ.get("PERF_ODOO_ENV"), os.path.join(root, ".odoo.env")]
    paths.append(os.path.join(os.path.expanduser("~"), ".config", "perf-toolkit", "odoo.env"))
    return [p for p in paths if p]


def find(root):
    """The first existing file of :func:`candidates`, or None."""
    return next((p for p in candidates(root) if os.path.isfile(p)), None)


def load(root):
    """Set the variables of the first file found that the environment does not set yet.

    Returns ``{name: value}`` of the values taken from the file; raises ``ValueError``
    naming the line of a malformed entry or an unknown variable.
    """
    path = find(root)
    if path is None:
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
                    f"{path} line {number}: expected NAME=value with NAME one of "
                    f"{', '.join(NAMES)}, got {line!r}"
                )
            value = os.path.expanduser(value)
            if value and not os.environ.get(name):
                os.environ[name] = value
                taken[name] = value
    return taken
