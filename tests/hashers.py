"""The test run's password hasher: Django's PBKDF2 at one iteration. Creating or checking a password
with the production hasher (a million iterations) takes about 0.4 s, which most tests paid in their
set-up for each account of the cast. The hashes it makes are ordinary `pbkdf2_sha256$1$...` ones, which
the production hasher of a server process a test starts still verifies (it reads the iteration count
from the hash)."""
from django.contrib.auth.hashers import PBKDF2PasswordHasher


class OneIterationPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1
