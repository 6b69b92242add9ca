from django.core.management import call_command

from board.models import Board, PrivateNote, Task


def test_seed_demo_creates_boards(db):
    call_command("seed_demo")

    launch = Board.objects.get(name="Launch plan")
    assert sorted(launch.members.values_list("username", flat=True)) == ["alice", "bob"]
    assert launch.tasks.count() == 3
    assert launch.tasks.filter(locked=True).count() == 1
    assert PrivateNote.objects.filter(board=launch).count() == 2


def test_seed_demo_twice_replaces_boards(db):
    call_command("seed_demo")
    call_command("seed_demo")

    assert Board.objects.filter(name="Launch plan").count() == 1
    assert Task.objects.count() == 5


def test_is_member(db):
    call_command("seed_demo")
    errands = Board.objects.get(name="Alice's errands")

    assert errands.is_member(errands.members.get(username="alice"))
    assert not errands.is_member(Board.objects.get(name="Launch plan").members.get(username="bob"))
