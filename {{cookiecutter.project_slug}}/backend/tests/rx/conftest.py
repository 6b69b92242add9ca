"""Fixtures that build test data in the rxapp models for the rxdjango tests."""

import datetime
import functools
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from tests.rx import live
from tests.rxapp.models import Comment, Note, Project, ProjectDetail, Tag, Task

PASSWORD = "correct-horse-battery"


@functools.cache
def password_hash():
    # The default PBKDF2 hasher is slow by design, so every user shares one precomputed hash.
    return make_password(PASSWORD)


@pytest.fixture
def make_user(db):
    """Return a function that creates a user whose password is PASSWORD."""

    def make(username, **fields):
        return get_user_model().objects.create(
            username=username, email=f"{username}@example.com", password=password_hash(), **fields
        )

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice", first_name="Alice", last_name="Liddell")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def tags(db):
    """Three tags, which Tag orders by name."""
    return SimpleNamespace(
        urgent=Tag.objects.create(name="urgent"),
        backend=Tag.objects.create(name="backend"),
        design=Tag.objects.create(name="design"),
    )


@pytest.fixture
def project_tree(alice, bob, tags):
    """A project owned by alice with every relation of ProjectSerializer filled in.

    Tasks are created out of their `position` order and comments out of their
    `created_at` order, so serializer ordering differs from primary key order. alice is
    the owner, an assignee and a comment author; bob is an assignee and a comment author.
    Both have a note.
    """
    project = Project.objects.create(
        name="Launch",
        budget=Decimal("1234.50"),
        starts_at=datetime.datetime(2025, 3, 1, 9, 30, tzinfo=datetime.UTC),
        metadata={"color": "teal", "limits": {"tasks": 10}, "flags": [1, 2.5, None, True]},
        owner=alice,
    )
    project.tags.set([tags.urgent, tags.backend])
    detail = ProjectDetail.objects.create(project=project, description="Ship v1", website="https://example.com")

    spec = Task.objects.create(project=project, title="Write spec", position=1, done=True, assignee=bob)
    api = Task.objects.create(project=project, title="Build API", position=0, assignee=alice)
    ship = Task.objects.create(project=project, title="Ship", position=2)

    start = datetime.datetime(2025, 3, 2, 12, 0, tzinfo=datetime.UTC)
    late_comment = Comment.objects.create(
        task=api, author=bob, text="Endpoints done", created_at=start + datetime.timedelta(hours=2)
    )
    early_comment = Comment.objects.create(task=api, author=alice, text="Starting", created_at=start)
    spec_comment = Comment.objects.create(task=spec, author=alice, text="Approved", created_at=start)

    alice_note = Note.objects.create(project=project, user=alice, text="Ask bob about the deadline")
    bob_note = Note.objects.create(project=project, user=bob, text="Deadline is tight")

    return SimpleNamespace(
        project=project,
        detail=detail,
        tags=tags,
        tasks=SimpleNamespace(spec=spec, api=api, ship=ship),
        comments=SimpleNamespace(late=late_comment, early=early_comment, spec=spec_comment),
        notes=SimpleNamespace(alice=alice_note, bob=bob_note),
        alice=alice,
        bob=bob,
    )


@pytest.fixture
def second_project(project_tree):
    """A project owned by bob, without a detail, sharing the "backend" tag and bob as an assignee."""
    bob = project_tree.bob
    project = Project.objects.create(name="Maintenance", budget=Decimal("10"), owner=bob)
    project.tags.set([project_tree.tags.backend])
    task = Task.objects.create(project=project, title="Patch", assignee=bob)
    return SimpleNamespace(project=project, task=task)


@pytest.fixture
def people(transactional_db):
    """Two users of the live tests: olga, who owns the project, and pavel."""
    return live.make_user("olga"), live.make_user("pavel")


@pytest.fixture
def project_rows(people):
    """olga's project: "Build rocket" assigned to olga, "Train crew" assigned to pavel, a note each."""
    owner, other = people
    return live.build_project(owner, other)


@pytest.fixture
def project(project_rows):
    return project_rows[0]
