"""Import a CSV / CSV.gz / XLSX file as a dataset of an organization, with the upload page's validation.

    python manage.py import_dataset --organization acme-retail customers.csv [--name "Customers Q3"]

Prints the new dataset's id. A rejected file prints the same message the upload page shows to standard
error, exits with status 1 and stores nothing. Conversion and profiling run in this process (no worker
needed) unless --background is given.
"""

import os
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization


class Command(BaseCommand):
    help = "Import a CSV, CSV.gz or XLSX file as a dataset (same validation as the upload page)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="File to import")
        parser.add_argument("--organization", required=True, help="Organization slug")
        parser.add_argument("--name", default=None, help="Dataset name (default: the file name)")
        parser.add_argument("--background", action="store_true", help="Convert and profile in a worker job")

    def handle(self, *args, path, organization, name, background, **options):
        from datasets.services import DatasetRejected, dataset_create_from_upload

        org = Organization.objects.filter(slug=organization).first()
        if org is None:
            raise CommandError(f"No organization with slug {organization!r}.")
        if not os.path.isfile(path):
            raise CommandError(f"{path}: no such file.")
        with open(path, "rb") as fh:
            try:
                dataset = dataset_create_from_upload(
                    organization=org,
                    uploaded_by=None,
                    file=fh,
                    name=name,
                    filename=os.path.basename(path),
                    background=background,
                )
            except DatasetRejected as exc:
                self.stderr.write(exc.message)
                sys.exit(1)
        self.stdout.write(str(dataset.pk))
        self.stderr.write(
            f"Imported {dataset.name!r} ({dataset.row_count:,} rows, {dataset.column_count} columns) into "
            f"{org.slug}: status {dataset.status}."
        )
