from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from accounts.permissions import API_SCOPES
from accounts.services import AccountsError, api_key_create


class Command(BaseCommand):
    help = "Create an API key for an organization and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="Organization slug")
        parser.add_argument("--scopes", default="read", help=f"Comma-separated, from: {','.join(API_SCOPES)}")
        parser.add_argument("--name", default="Created from the command line")

    def handle(self, *args, organization, scopes, name, **options):
        org = Organization.objects.filter(slug=organization).first()
        if org is None:
            raise CommandError(f"No organization with slug {organization!r}")
        try:
            _, key = api_key_create(
                organization=org, name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()]
            )
        except AccountsError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(key)
