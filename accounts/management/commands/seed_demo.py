"""A demo organization, user and synthetic dataset. Safe to run again: it changes nothing twice."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, Organization
from accounts.permissions import Role
from accounts.services import user_get_or_create

DEMO_EMAIL = "demo@segsaas.local"
DEMO_PASSWORD = "demo-password-2026"
DEMO_ORGS = [("Acme Retail", "acme-retail"), ("Globex Outdoor", "globex-outdoor")]


class Command(BaseCommand):
    help = "Seed a demo organization (plus a second one for the switcher), the demo user and a synthetic dataset."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=10_000, help="Rows of the demo synthetic dataset")

    def handle(self, *args, rows, **options):
        with transaction.atomic():
            user, created = user_get_or_create(email=DEMO_EMAIL, password=DEMO_PASSWORD)
            if not created and not user.check_password(DEMO_PASSWORD):
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            orgs = []
            for name, slug in DEMO_ORGS:
                org, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": name})
                Membership.objects.for_organization(org).get_or_create(user=user, defaults={"role": Role.OWNER})
                orgs.append(org)
        self._seed_datasets(orgs[0], user, rows)
        self.stdout.write(f"Demo organization: {orgs[0].name} ({orgs[0].slug}); also {orgs[1].name}")
        self.stdout.write(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")

    def _seed_datasets(self, org, user, rows):
        from datasets.services import demo_dataset_ensure

        dataset, created = demo_dataset_ensure(organization=org, uploaded_by=user, rows=rows)
        verb = "Created" if created else "Kept"
        self.stdout.write(f"{verb} demo dataset #{dataset.pk}: {dataset.name} ({dataset.row_count:,} rows)")
