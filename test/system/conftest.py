"""Fixtures shared by every system test; the helpers themselves live in dnstest.py."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dnstest  # noqa: E402


@pytest.fixture
def workdir(tmp_path):
    """A fresh temporary directory for databases, zone files and logs."""
    return tmp_path


@pytest.fixture
def spawn(tmp_path):
    """spawn(name, args, workdir=None, env=None) -> a started dnstest.Daemon.
    Daemons still running at the end of the test are killed (the test has already
    failed, or did not care about the exit status)."""
    started = []

    def _spawn(name, args, workdir=None, env=None):
        d = dnstest.Daemon(name, args, workdir or tmp_path, env=env)
        d.start()
        started.append(d)
        return d

    yield _spawn
    for d in started:
        d.kill()
