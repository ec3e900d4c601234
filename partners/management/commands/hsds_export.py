"""python manage.py hsds_export --format json|csv OUTDIR"""

from pathlib import Path

from django.core.management.base import BaseCommand

from partners.hsds.exports import write_json, write_tabular


class Command(BaseCommand):
    help = (
        "Export the service directory as Open Referral HSDS 3.0: one dereferenced JSON document per "
        "service (--format json) or the Tabular Data Package, CSV files and datapackage.json (--format csv)."
    )

    def add_arguments(self, parser):
        parser.add_argument("outdir", help="Folder to write into (created if missing)")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args, outdir, format, **options):
        folder = Path(outdir)
        if format == "json":
            count = write_json(folder)
            self.stdout.write(self.style.SUCCESS(f"{count} service document(s) written to {folder}"))
        else:
            counts = write_tabular(folder)
            for name, rows in counts.items():
                self.stdout.write(f"{name}: {rows} row(s)")
            self.stdout.write(self.style.SUCCESS(f"Tabular package written to {folder}"))
