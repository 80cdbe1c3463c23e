from django.core.management.base import BaseCommand, CommandError

from accounts.services import AccountsError, organization_create, user_get_or_create


class Command(BaseCommand):
    help = "Create an organization with an owner (created if new). Prints the organization's slug."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--password", help="Password for a new owner account (ignored if the user exists)")

    def handle(self, *args, name, owner_email, password, **options):
        user, created = user_get_or_create(email=owner_email, password=password)
        if created and not password:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        try:
            org = organization_create(name=name, owner=user)
        except AccountsError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(org.slug)
