from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERNAMES = ["alice", "bob"]
DEMO_PASSWORD = "demo-password"


class Command(BaseCommand):
    help = "Create the demo users alice and bob, or reset their password if they exist."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help=f"password for every demo user (default: {DEMO_PASSWORD})",
        )

    def handle(self, *args, password, **options):
        User = get_user_model()
        for username in DEMO_USERNAMES:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@example.com", "first_name": username.title()},
            )
            user.set_password(password)
            user.save()
            action = "Created" if created else "Updated"
            self.stdout.write(f"{action} demo user {username!r} with password {password!r}")
