from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Purge organizations whose deletion grace period has passed: every row and every file of them."

    def handle(self, *args, **options):
        from accounts.leaving import organizations_purge_due

        purged = organizations_purge_due()
        for name in purged:
            self.stdout.write(f"purged {name}")
        self.stdout.write(f"{len(purged)} organization(s) purged")
