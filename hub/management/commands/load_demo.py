import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from consent.demo import load_consent_demo
from hub.local_state import BASE_DIR, VAR_DIR
from partners.demo import demo_totp_device, load_directory
from pathways.demo import load_demo_pathways
from referrals.demo import load_demo_referrals

LOGINS_FILE = VAR_DIR / "demo_logins.json"


class Command(BaseCommand):
    help = "Load the demo operation from fixtures/ (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--fixtures", default=str(BASE_DIR / "fixtures" / "demo.json"))

    def handle(self, *args, fixtures, **options):
        spec = json.loads(Path(fixtures).read_text(encoding="utf-8"))
        logins = json.loads(LOGINS_FILE.read_text()) if LOGINS_FILE.exists() else {}
        new_logins: dict[str, str] = {}
        with transaction.atomic():
            operation = load_directory(spec, new_logins)
            pathway_admin = get_user_model().objects.get(username=spec["platform_admin"]["username"])
            for pathway, problems in load_demo_pathways(operation=operation, actor=pathway_admin):
                self.stdout.write(
                    f"Pathway {pathway} loaded"
                    + (f" as a draft: {[p['code'] for p in problems]}" if problems else "")
                )
            load_consent_demo()
            for referral in load_demo_referrals():
                self.stdout.write(f"Referral {referral.reference} to {referral.to_service.name}")
        if new_logins:
            logins.update(new_logins)
            VAR_DIR.mkdir(mode=0o700, exist_ok=True)
            LOGINS_FILE.write_text(json.dumps(logins, indent=2))
            LOGINS_FILE.chmod(0o600)
        self._print_logins(spec, logins)

    def _print_logins(self, spec, logins):
        out = self.stdout
        out.write(
            self.style.MIGRATE_HEADING("\nDemo logins (this machine only; kept in var/demo_logins.json)")
        )
        admin = spec["platform_admin"]["username"]
        out.write(f"  {'platform admin':<20} {admin:<16} {logins.get(admin, '?')}  + a one-time code")
        for organisation in spec["organisations"]:
            people = [("focal point", organisation["focal_point"])] + [
                ("caseworker", p) for p in organisation["caseworkers"]
            ]
            for role, person in people:
                username = person["username"]
                out.write(
                    f"  {organisation['acronym'] + ' ' + role:<20} {username:<16} {logins.get(username, '?')}"
                )
        device = demo_totp_device(get_user_model().objects.get(username=admin))
        out.write(
            f"\n{admin} signs in with a one-time code (admin site and API). Add this to an authenticator "
            f"app:\n  {device.config_url}\nor print the current code: "
            f"DEBUG=1 .venv/bin/python manage.py demo_otp_code {admin}\n"
            "New members' activation mails land in var/mail/ (the demo sets passwords itself).\n"
        )
        fp = spec["organisations"][2]["focal_point"]["username"]
        site = settings.SITE_URL
        out.write(
            "\nTry it:\n"
            f"  TOKEN=$(curl -s -X POST {site}/api/v1/auth/login "
            "-H 'Content-Type: application/json' "
            f'-d \'{{"username": "{fp}", "password": "{logins.get(fp, "?")}"}}\' '
            "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')\n"
            f'  curl -s {site}/api/v1/me -H "Authorization: Token $TOKEN"\n'
        )
