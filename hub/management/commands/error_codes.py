from django.core.management.base import BaseCommand, CommandError

from hub.error_docs import stale_pages


class Command(BaseCommand):
    help = "Write the error-code tables of docs/api.md and docs/graphql.md from the code registry."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only report pages that are out of date")

    def handle(self, *args, check=False, **options):
        stale = stale_pages(write=not check)
        if check and stale:
            raise CommandError(f"Out of date: {', '.join(stale)}. Run `python manage.py error_codes`.")
        self.stdout.write(", ".join(stale) + " rewritten" if stale else "Error-code tables are up to date.")
