"""Import a CSV / CSV.gz / XLSX file as a dataset of an organization, with the upload page's validation.

    python manage.py import_dataset --organization acme-retail customers.csv [--name "Customers Q3"]
    python manage.py import_dataset --organization acme-retail orders.csv --kind transactions \
        [--customer-col C --date-col D --amount-col A --order-id-col O --currency-col X --product-col P]
    python manage.py import_dataset --dataset 12 customers-december.csv [--column-map '{"spend": "total_spend"}']

With --dataset, the file becomes that dataset's next version (same validation, then the columns are compared with
the latest version's; see `datasets.versions`).

Whether the table is an order log (one row per order) is detected from its columns; --kind confirms it either way,
and the --*-col options choose an order log's columns (the detected ones otherwise). The log is then read with
the order-log rules and its eligibility for lifetime-value models printed (what is missing and what to do).

Prints the new dataset's id. A rejected file prints the same message the upload page shows to standard
error, exits with status 1 and stores nothing; so does an order log whose
columns, as given, cannot be read. Conversion and profiling run in this process (no worker
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
        parser.add_argument("--organization", default=None, help="Organization slug (a new dataset)")
        parser.add_argument(
            "--dataset", dest="version_of", type=int, default=None, help="Add the file as a new version of this dataset"
        )
        parser.add_argument(
            "--column-map", default="", help='Renamed columns as JSON: {"current column": "column in the new file"}'
        )
        parser.add_argument("--name", default=None, help="Dataset name (default: the file name)")
        parser.add_argument("--background", action="store_true", help="Convert and profile in a worker job")
        parser.add_argument(
            "--kind",
            choices=["customers", "transactions"],
            default=None,
            help="What the table is: one row per customer, or an order log (default: detected from the columns)",
        )
        from segments.engine.clv.product import ORDER_COLUMN_KEYS

        for key in ORDER_COLUMN_KEYS:
            parser.add_argument(
                "--" + key.replace("_", "-"), dest=key, default=None, help=f"Order log: the {key[:-4]} column"
            )

    def handle(self, *args, path, organization, name, background, kind=None, version_of=None, column_map="", **options):
        from datasets.services import (
            DatasetError,
            DatasetRejected,
            dataset_create_from_upload,
            dataset_delete,
            dataset_set_kind,
        )

        if version_of is not None:
            return self._add_version(path, version_of, organization, column_map)
        if not organization:
            raise CommandError("Give --organization (a new dataset) or --dataset (a new version of one).")
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
        from segments.engine.clv.product import ORDER_COLUMN_KEYS

        columns = {key: options[key] for key in ORDER_COLUMN_KEYS if options.get(key)}
        if (kind or columns) and background:
            self.stderr.write(
                "--kind and the order-log columns need the import to finish here: leave out --background."
            )
            sys.exit(1)
        if kind or columns:
            try:
                dataset_set_kind(dataset=dataset, kind=kind or "transactions", order_columns=columns)
            except DatasetError as exc:
                # the dataset page's check; refused as asked, the import is refused whole: nothing is stored
                dataset_delete(dataset=dataset)
                self.stderr.write(f"Not imported: {exc.describe()}")
                sys.exit(1)
        self.stdout.write(str(dataset.pk))
        self.stderr.write(
            f"Imported {dataset.name!r} ({dataset.row_count:,} rows, {dataset.column_count} columns) into "
            f"{org.slug}: status {dataset.status}."
        )
        if dataset.is_order_log:
            check = dataset.order_log
            cols = ", ".join(f"{k[:-4]} {v!r}" for k, v in dataset.order_columns.items() if v)
            self.stderr.write(f"An order log ({cols}).")
            if check.get("eligible"):
                self.stderr.write(
                    f"Ready for lifetime value: {check['orders']:,} orders from {check['customers']:,} customers, "
                    f"{check['first_order']} to {check['last_order']}."
                )
            for reason in check.get("reasons") or []:
                self.stderr.write(f"Not enough history for lifetime value: {reason['message']} {reason['advice']}")

    def _add_version(self, path, dataset_id, organization, column_map):
        import json

        from datasets.models import Dataset
        from datasets.services import DatasetError, dataset_add_version

        dataset = Dataset.objects.unscoped().select_related("organization").filter(pk=dataset_id).first()
        if dataset is None or (organization and dataset.organization.slug != organization):
            raise CommandError(f"No dataset {dataset_id}" + (f" in {organization}." if organization else "."))
        if not os.path.isfile(path):
            raise CommandError(f"{path}: no such file.")
        try:
            mapping = json.loads(column_map) if column_map else {}
        except ValueError as exc:
            raise CommandError(f"--column-map is not valid JSON: {exc}") from exc
        if not isinstance(mapping, dict):
            raise CommandError('--column-map must be a JSON object: {"current column": "column in the new file"}.')
        with open(path, "rb") as fh:
            try:
                version = dataset_add_version(
                    dataset=dataset, file=fh, filename=os.path.basename(path), column_map=mapping
                )
            except DatasetError as exc:
                self.stderr.write(exc.describe() if exc.others else exc.message)
                sys.exit(1)
        self.stdout.write(str(version.number))
        self.stderr.write(
            f"Added version {version.number} of {dataset.name!r} ({version.row_count:,} rows, "
            f"{version.column_count} columns)."
        )
