"""python manage.py hsds_import PATH [--dry-run] [--operation NAME]"""

from django.core.management.base import BaseCommand, CommandError

from common.errors import ServiceError
from partners.hsds.imports import hsds_import
from partners.models import Operation


class Command(BaseCommand):
    help = (
        "Import an Open Referral HSDS 3.0 directory: a JSON file, a folder of JSON files, or the "
        "folder of a tabular data package (CSV files). All or nothing; re-importing updates in place. "
        "New organisations start inactive."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSON file, folder of JSON files, or folder with the CSV files")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; save nothing")
        parser.add_argument(
            "--operation", help="Operation (by name) that new organisations and locations belong to"
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar")

    def handle(self, *args, path, dry_run, operation, no_progress, **options):
        target = None
        if operation:
            target = Operation.objects.filter(name=operation).first()
            if target is None:
                raise CommandError(f"No operation named {operation!r}.")
        try:
            report = hsds_import(
                path=path, operation=target, dry_run=dry_run, progress=not no_progress, actor=None
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        for line in report.lines():
            self.stdout.write(line)
        summary = f"{report.changes} row(s) {'would change' if dry_run else 'changed'}."
        self.stdout.write(self.style.SUCCESS(summary))
