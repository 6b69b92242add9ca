"""Boards of a given number of flat instances, created in bulk in the benchmark database."""

from dataclasses import dataclass

# The owner plus ASSIGNEES users, who are assigned the tasks and write the comments.
ASSIGNEES = 10
COMMENTS_PER_TASK = 3
# Below this size some users would be referenced by no task or comment, and the board
# would have fewer flat instances than requested.
MIN_BOARD_SIZE = 1 + (1 + ASSIGNEES) + ASSIGNEES * (1 + COMMENTS_PER_TASK)


@dataclass(frozen=True)
class SeededBoard:
    id: int
    size: int
    task_ids: list


def create_users(prefix):
    """Create the owner and the assignees, and return (owner, [owner, *assignees])."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    owner = User.objects.create_user(f"{prefix}-owner")
    assignees = [User.objects.create_user(f"{prefix}-user-{index}") for index in range(ASSIGNEES)]
    return owner, [owner, *assignees]


def seed_board(size, users, name):
    """Create a board whose state has exactly `size` flat instances.

    Those are the board, its 11 users, and tasks with about 3 comments each: a quarter of
    the remaining rows are tasks. Tasks are assigned to the 10 assignees in turn, and the
    comments are written by all 11 users in turn.
    """
    from benchmarks.benchapp.models import Board, Comment, Task

    if size < MIN_BOARD_SIZE:
        raise ValueError(f"a board needs at least {MIN_BOARD_SIZE} flat instances, got {size}")
    owner, assignees = users[0], users[1:]
    rows = size - 1 - len(users)
    task_count = rows // (COMMENTS_PER_TASK + 1)

    board = Board.objects.create(name=name, owner=owner)
    tasks = Task.objects.bulk_create(
        Task(board=board, title=f"task {index}", position=index, assignee=assignees[index % len(assignees)])
        for index in range(task_count)
    )
    Comment.objects.bulk_create(
        Comment(task=tasks[index % task_count], author=users[index % len(users)], text=f"comment {index}")
        for index in range(rows - task_count)
    )
    return SeededBoard(id=board.pk, size=size, task_ids=[task.pk for task in tasks])
