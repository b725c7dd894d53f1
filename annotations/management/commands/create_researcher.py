"""`create_researcher`: the first account of a deployment, without the admin or a DEBUG-only demo user.

Non-interactive from the environment (RESEARCHER_USERNAME, RESEARCHER_PASSWORD, RESEARCHER_EMAIL), so a
deployment script or a container entry point can run it; on a terminal it prompts for what is missing.
The password passes the site's AUTH_PASSWORD_VALIDATORS, as on the password-change page.
"""
import getpass
import os
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Create a researcher account (with --admin: also staff and superuser, for /admin/). The username, password"
            " and email come from the options, else RESEARCHER_USERNAME, RESEARCHER_PASSWORD and RESEARCHER_EMAIL,"
            " else a prompt on a terminal.")
    requires_system_checks: list[str] = []  # as Django's createsuperuser: an account needs no URL or model checks

    def add_arguments(self, parser):
        parser.add_argument("--username", help="default: $RESEARCHER_USERNAME")
        parser.add_argument("--email", help="default: $RESEARCHER_EMAIL (optional)")
        parser.add_argument("--admin", action="store_true",
                            help="also staff and superuser: may log in to /admin/ and sees every study there")
        parser.add_argument("--update", action="store_true",
                            help="if the account exists, set its password (and email, --admin) instead of refusing")

    def handle(self, *args, **options):
        interactive = sys.stdin.isatty()
        username = (options["username"] or os.environ.get("RESEARCHER_USERNAME", "")).strip()
        if not username and interactive:
            username = input("Username: ").strip()
        if not username:
            raise CommandError("no username: pass --username or set RESEARCHER_USERNAME")
        email = (options["email"] or os.environ.get("RESEARCHER_EMAIL", "")).strip()
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is not None and not options["update"]:
            raise CommandError(f"user {username!r} exists already: pass --update to set its password,"
                               " or choose another --username")
        password = os.environ.get("RESEARCHER_PASSWORD", "")
        if not password:
            if not interactive:
                raise CommandError("no password: set RESEARCHER_PASSWORD (not on the command line, where"
                                   " other users of the machine can read it), or run this on a terminal")
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("the two passwords differ; nothing created")
        candidate = user or User(username=username, email=email)
        try:
            User._meta.get_field("username").run_validators(username)
            validate_password(password, candidate)
        except ValidationError as exc:
            raise CommandError(f"{username!r} not created: " + " ".join(exc.messages)) from None
        created = user is None
        if user is None:
            user = User(username=username)
        if email:
            user.email = email
        if options["admin"]:
            user.is_staff = user.is_superuser = True
        user.is_active = True
        user.set_password(password)
        user.save()
        role = "researcher and admin" if options["admin"] else "researcher"
        self.stdout.write(self.style.SUCCESS(
            f"{'created' if created else 'updated'} {role} {username!r}: log in at /accounts/login/"))
