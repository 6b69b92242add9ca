from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from board.models import Board, PrivateNote, Task

DEMO_BOARDS = {
    "Launch plan": {
        "members": ["alice", "bob"],
        "tasks": [
            ("Write the announcement", Task.Status.DOING, "alice", False),
            ("Book the venue", Task.Status.TODO, "bob", False),
            ("Sign the budget", Task.Status.DONE, "alice", True),
        ],
    },
    "Alice's errands": {
        "members": ["alice"],
        "tasks": [
            ("Renew passport", Task.Status.TODO, "alice", False),
            ("File taxes", Task.Status.TODO, "alice", True),
        ],
    },
}


class Command(BaseCommand):
    help = "Create the demo users and their example boards, replacing earlier demo boards."

    @transaction.atomic
    def handle(self, *args, **options):
        call_command("create_demo_users", stdout=self.stdout)
        users = {user.username: user for user in get_user_model().objects.filter(username__in=["alice", "bob"])}

        for name, spec in DEMO_BOARDS.items():
            Board.objects.filter(name=name).delete()
            board = Board.objects.create(name=name)
            board.members.set([users[username] for username in spec["members"]])
            for title, status, assignee, locked in spec["tasks"]:
                Task.objects.create(board=board, title=title, status=status, assignee=users[assignee], locked=locked)
            for username in spec["members"]:
                PrivateNote.objects.create(board=board, user=users[username], text=f"{username}'s private note")
            self.stdout.write(f"Created board {name!r} with {len(spec['tasks'])} tasks")
