"""Uninstall: remove the generation triggers the cache put on other modules' tables."""

from .engine import generations


def uninstall_hook(env):
    generations.uninstall(env.cr)
