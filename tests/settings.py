"""The test run's settings: the project's own, read with DEBUG on and a key of the tests' own unless
the environment sets them (the project's default is DEBUG off, which requires SECRET_KEY).

Set in os.environ, so the workers and servers the tests start inherit the same; tests of the
production profile give their subprocesses DEBUG=false and a fresh key explicitly."""
import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "tests-only-key-never-used-outside-the-test-run-" + "x" * 20)

from config.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["tests.hashers.OneIterationPBKDF2PasswordHasher"]  # fast accounts (tests/hashers.py)
