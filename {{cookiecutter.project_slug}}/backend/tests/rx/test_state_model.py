import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from rxdjango.exceptions import ChannelConfigError
from rxdjango.related_properties import RelatedProperty, related_property
from rxdjango.state_model import RelatedPropertyWatch, StateModel
from tests.rxapp.models import Comment, Note, Project, ProjectDetail, Tag, Task
from tests.rxapp.serializers import (
    CommentSerializer,
    NoteSerializer,
    ProjectDetailSerializer,
    ProjectListSerializer,
    ProjectSerializer,
    TagSerializer,
    TaskSerializer,
    TaskSummarySerializer,
    UserSerializer,
)

User = get_user_model()

PREFIX = "tests.rxapp.serializers."
TSTAMP = 1750000000.25


def project_state():
    return StateModel(ProjectSerializer(), "ProjectChannel")


def layer_at(state_model, path=""):
    """Return the layer reached from the root through the dotted serializer field names in `path`."""
    layer = state_model.root
    for name in filter(None, path.split(".")):
        layer = layer.child(name)
        assert layer is not None, f"no layer under {name!r} in {path!r}"
    return layer


def render(data):
    return json.loads(JSONRenderer().render(data))


def load_all(state_model, anchor_id, batch_size=1000):
    return [flat for batch in state_model.load_anchor(anchor_id, TSTAMP, batch_size) for flat in batch]


# Serializers for trees the test app does not nest: a forward one-to-one and a reverse many-to-many.


class ProjectNameSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name"]


class DetailAnchorSerializer(serializers.ModelSerializer):
    project = ProjectNameSerializer(read_only=True)

    class Meta:
        model = ProjectDetail
        fields = ["id", "description", "project"]


class TagAnchorSerializer(serializers.ModelSerializer):
    projects = ProjectNameSerializer(many=True, read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "name", "projects"]


class TagNameSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["name"]


class ProjectWithTagNamesSerializer(serializers.ModelSerializer):
    tags = TagNameSerializer(many=True, read_only=True)

    class Meta:
        model = Project
        fields = ["id", "name", "tags"]


class TaskWithProjectCountSerializer(serializers.ModelSerializer):
    project_open_tasks = serializers.IntegerField(source="project.open_task_count", read_only=True)

    class Meta:
        model = Task
        fields = ["id", "title", "project_open_tasks"]


class ProjectTaskCountSerializer(serializers.ModelSerializer):
    tasks = TaskWithProjectCountSerializer(many=True, read_only=True)

    class Meta:
        model = Project
        fields = ["id", "tasks"]


# Layers


def test_layers_in_pre_order():
    state_model = project_state()

    paths = [layer.path_from_anchor for layer in state_model.layers]
    assert paths == [
        None,
        "owner",
        "tags",
        "detail",
        "tasks",
        "tasks__assignee",
        "tasks__comment",
        "tasks__comment__author",
        "notes",
    ]
    types = [layer.instance_type for layer in state_model.layers]
    assert types == [
        PREFIX + "ProjectSerializer",
        PREFIX + "UserSerializer",
        PREFIX + "TagSerializer",
        PREFIX + "ProjectDetailSerializer",
        PREFIX + "TaskSerializer",
        PREFIX + "UserSerializer",
        PREFIX + "CommentSerializer",
        PREFIX + "UserSerializer",
        PREFIX + "NoteSerializer",
    ]


def test_layer_tree_links():
    state_model = project_state()
    root = state_model.root

    assert state_model.anchor_model is Project
    assert state_model.many is False
    assert root is state_model.layers[0]
    assert root.parent is None
    assert root.is_anchor
    assert root.relation_name is None
    assert [child.relation_name for child in root.children] == ["owner", "tags", "detail", "tasks", "notes"]
    tasks = root.child("tasks")
    assert [child.relation_name for child in tasks.children] == ["assignee", "comments"]
    assert tasks.child("comments").source == "comment_set"
    assert tasks.child("comments").parent is tasks
    assert all(layer.anchor_model is Project for layer in state_model.layers)


def test_layer_models_and_serializers():
    state_model = project_state()

    expected = {
        "": (Project, ProjectSerializer),
        "owner": (User, UserSerializer),
        "tags": (Tag, TagSerializer),
        "detail": (ProjectDetail, ProjectDetailSerializer),
        "tasks": (Task, TaskSerializer),
        "tasks.assignee": (User, UserSerializer),
        "tasks.comments": (Comment, CommentSerializer),
        "tasks.comments.author": (User, UserSerializer),
        "notes": (Note, NoteSerializer),
    }
    for path, (model, serializer_class) in expected.items():
        layer = layer_at(state_model, path)
        assert layer.model is model, path
        assert layer.serializer_class is serializer_class, path


def test_layer_many_flags():
    state_model = project_state()

    many = {path: layer_at(state_model, path).many for path in ["", "owner", "tags", "detail", "tasks", "notes"]}
    assert many == {"": False, "owner": False, "tags": True, "detail": False, "tasks": True, "notes": True}
    assert layer_at(state_model, "tasks.comments").many is True
    assert layer_at(state_model, "tasks.assignee").many is False


def test_layer_meta_options():
    state_model = project_state()

    assert layer_at(state_model, "notes").user_key == "user"
    assert layer_at(state_model, "tasks").user_key is None
    assert layer_at(state_model, "tasks").optimistic is True
    assert layer_at(state_model, "notes").optimistic is False
    assert layer_at(state_model, "tasks").optimistic_timeout == 3.0


def test_custom_optimistic_timeout():
    class TimedTagSerializer(serializers.ModelSerializer):
        class Meta:
            model = Tag
            fields = ["id", "name"]
            optimistic = True
            optimistic_timeout = 1.5

    state_model = StateModel(TimedTagSerializer(), "TagChannel")

    assert state_model.root.optimistic is True
    assert state_model.root.optimistic_timeout == 1.5


def test_list_state_layers():
    state_model = StateModel(ProjectListSerializer(many=True), "ProjectListChannel")

    assert state_model.many is True
    assert state_model.anchor_model is Project
    assert [layer.serializer_class for layer in state_model.layers] == [ProjectListSerializer, TaskSummarySerializer]
    assert state_model.layers[1].path_to_anchor == "project"


def test_layers_for_model():
    state_model = project_state()

    user_layers = state_model.layers_for_model(User)
    assert [layer.path_from_anchor for layer in user_layers] == ["owner", "tasks__assignee", "tasks__comment__author"]
    assert state_model.layers_for_model(Task) == [layer_at(state_model, "tasks")]
    assert state_model.layers_for_model(Project) == [state_model.root]


def test_layers_for_serializer():
    state_model = project_state()

    by_class = state_model.layers_for_serializer(UserSerializer)
    by_type = state_model.layers_for_serializer(PREFIX + "UserSerializer")
    assert len(by_class) == 3
    assert by_type == by_class
    assert state_model.layers_for_serializer(TaskSummarySerializer) == []


# Paths to the anchor


@pytest.mark.parametrize(
    ("path", "kind", "path_to_anchor"),
    [
        ("owner", "foreign_key", "rx_projects"),
        ("tags", "many_to_many", "projects"),
        ("detail", "reverse_one_to_one", "project"),
        ("tasks", "reverse_foreign_key", "project"),
        ("tasks.assignee", "foreign_key", "rx_assigned_tasks__project"),
        ("tasks.comments", "reverse_foreign_key", "task__project"),
        ("notes", "reverse_foreign_key", "project"),
    ],
)
def test_path_to_anchor(path, kind, path_to_anchor):
    layer = layer_at(project_state(), path)

    assert layer.relation.kind == kind
    assert layer.path_to_anchor == path_to_anchor


def test_path_to_anchor_forward_one_to_one():
    state_model = StateModel(DetailAnchorSerializer(), "DetailChannel")
    layer = layer_at(state_model, "project")

    assert layer.relation.kind == "one_to_one"
    assert layer.path_to_anchor == "detail"
    assert layer.path_from_anchor == "project"


def test_path_to_anchor_reverse_many_to_many():
    state_model = StateModel(TagAnchorSerializer(), "TagChannel")
    layer = layer_at(state_model, "projects")

    assert layer.relation.kind == "reverse_many_to_many"
    assert layer.path_to_anchor == "tags"
    assert layer.path_from_anchor == "projects"


def test_path_to_anchor_of_anchor_is_none():
    assert project_state().root.path_to_anchor is None


def test_path_to_anchor_hidden_relation():
    # Comment.author has related_name="+", so no lookup leads from a user to comments.
    layer = layer_at(project_state(), "tasks.comments.author")

    assert layer.path_to_anchor is None
    assert layer.path_from_anchor == "tasks__comment__author"


@pytest.mark.parametrize("path", ["owner", "tags", "detail", "tasks", "tasks.assignee", "tasks.comments", "notes"])
def test_path_to_anchor_is_valid_lookup(project_tree, path):
    layer = layer_at(project_state(), path)
    anchor = project_tree.project

    rows = layer.model.objects.filter(**{layer.path_to_anchor: anchor.pk})

    assert rows.exists()


# anchor_ids


def test_anchor_ids_of_anchor_without_query(project_tree, django_assert_num_queries):
    root = project_state().root
    pk = project_tree.project.pk

    with django_assert_num_queries(0):
        assert root.anchor_ids(pk) == [pk]
        assert root.anchor_ids(str(pk)) == [pk]
        assert root.anchor_ids(pk, restrict_to={str(pk)}) == [pk]
        assert root.anchor_ids(pk, restrict_to=[pk + 1]) == []


def test_anchor_ids_of_comment(project_tree, second_project, django_assert_num_queries):
    layer = layer_at(project_state(), "tasks.comments")

    with django_assert_num_queries(1):
        anchors = layer.anchor_ids(project_tree.comments.late.pk)

    assert anchors == [project_tree.project.pk]


def test_anchor_ids_of_shared_tag(project_tree, second_project, django_assert_num_queries):
    layer = layer_at(project_state(), "tags")
    backend = project_tree.tags.backend

    with django_assert_num_queries(1):
        anchors = layer.anchor_ids(backend.pk)

    assert sorted(anchors) == sorted([project_tree.project.pk, second_project.project.pk])
    assert layer.anchor_ids(project_tree.tags.urgent.pk) == [project_tree.project.pk]
    assert layer.anchor_ids(project_tree.tags.design.pk) == []


def test_anchor_ids_of_assignee_in_two_projects(project_tree, second_project, django_assert_num_queries):
    layer = layer_at(project_state(), "tasks.assignee")
    bob = project_tree.bob

    with django_assert_num_queries(1):
        anchors = layer.anchor_ids(bob.pk)

    assert sorted(anchors) == sorted([project_tree.project.pk, second_project.project.pk])
    assert layer.anchor_ids(project_tree.alice.pk) == [project_tree.project.pk]


def test_anchor_ids_through_hidden_relation(project_tree, second_project, django_assert_num_queries):
    layer = layer_at(project_state(), "tasks.comments.author")

    with django_assert_num_queries(1):
        anchors = layer.anchor_ids(project_tree.bob.pk)

    assert anchors == [project_tree.project.pk]
    assert layer.anchor_ids(project_tree.bob.pk, restrict_to=[second_project.project.pk]) == []


def test_anchor_ids_per_relation(project_tree, second_project):
    state_model = project_state()
    cases = [
        ("owner", project_tree.alice),
        ("detail", project_tree.detail),
        ("tasks", project_tree.tasks.api),
        ("notes", project_tree.notes.bob),
    ]

    for path, instance in cases:
        assert layer_at(state_model, path).anchor_ids(instance.pk) == [project_tree.project.pk], path


def test_anchor_ids_of_missing_row(project_tree):
    layer = layer_at(project_state(), "tasks.comments")

    assert layer.anchor_ids(10_000) == []


def test_anchor_ids_restrict_to_shared_tag(project_tree, second_project):
    layer = layer_at(project_state(), "tags")
    backend = project_tree.tags.backend
    second = second_project.project.pk

    assert layer.anchor_ids(backend.pk, restrict_to=[second]) == [second]
    assert layer.anchor_ids(backend.pk, restrict_to={str(second)}) == [second]
    assert layer.anchor_ids(backend.pk, restrict_to=[10_000]) == []


def test_anchor_ids_restrict_to_assignee(project_tree, second_project):
    layer = layer_at(project_state(), "tasks.assignee")
    first = project_tree.project.pk

    assert layer.anchor_ids(project_tree.bob.pk, restrict_to=[first]) == [first]


def test_anchor_ids_empty_restrict_to(project_tree, django_assert_num_queries):
    layer = layer_at(project_state(), "tags")

    with django_assert_num_queries(0):
        assert layer.anchor_ids(project_tree.tags.backend.pk, restrict_to=set()) == []


# Flat serialization


def test_flat_project(project_tree):
    project = project_tree.project
    tasks = project_tree.tasks

    flat = project_state().root.serialize(project, TSTAMP)

    assert flat == {
        "id": project.pk,
        "_instance_type": PREFIX + "ProjectSerializer",
        "_tstamp": TSTAMP,
        "_operation": "initial_state",
        "name": "Launch",
        "budget": "1234.50",
        "public_id": str(project.public_id),
        "starts_at": "2025-03-01T09:30:00Z",
        "metadata": {"color": "teal", "limits": {"tasks": 10}, "flags": [1, 2.5, None, True]},
        "open_task_count": 2,
        "owner": project_tree.alice.pk,
        "tags": [project_tree.tags.backend.pk, project_tree.tags.urgent.pk],
        "detail": project_tree.detail.pk,
        "tasks": [tasks.api.pk, tasks.spec.pk, tasks.ship.pk],
        "notes": [project_tree.notes.alice.pk, project_tree.notes.bob.pk],
    }


def test_flat_project_without_detail(second_project):
    flat = project_state().root.serialize(second_project.project, TSTAMP)

    assert flat["detail"] is None
    assert flat["notes"] == []
    assert flat["starts_at"] is None
    assert flat["budget"] == "10.00"


def test_flat_task(project_tree):
    layer = layer_at(project_state(), "tasks")
    tasks = project_tree.tasks
    comments = project_tree.comments

    api = layer.serialize(tasks.api, TSTAMP, "update")
    ship = layer.serialize(tasks.ship, TSTAMP)

    assert api == {
        "id": tasks.api.pk,
        "_instance_type": PREFIX + "TaskSerializer",
        "_tstamp": TSTAMP,
        "_operation": "update",
        "title": "Build API",
        "done": False,
        "position": 0,
        "assignee": project_tree.alice.pk,
        "comments": [comments.early.pk, comments.late.pk],
        "comment_count": 2,
    }
    assert ship["assignee"] is None
    assert ship["comments"] == []


def test_flat_comment(project_tree):
    layer = layer_at(project_state(), "tasks.comments")
    comment = project_tree.comments.late

    flat = layer.serialize(comment, TSTAMP)

    assert flat["author"] == project_tree.bob.pk
    assert flat["created_at"] == "2025-03-02T14:00:00Z"
    assert flat["text"] == "Endpoints done"


def test_flat_leaf_layers(project_tree):
    state_model = project_state()
    cases = [
        ("owner", project_tree.alice, {"username": "alice", "display_name": "Alice Liddell"}),
        ("tags", project_tree.tags.urgent, {"name": "urgent"}),
        ("detail", project_tree.detail, {"description": "Ship v1", "website": "https://example.com"}),
        ("notes", project_tree.notes.bob, {"text": "Deadline is tight", "user": project_tree.bob.pk}),
    ]

    for path, instance, fields in cases:
        layer = layer_at(state_model, path)
        flat = layer.serialize(instance, TSTAMP)
        assert flat == {
            "id": instance.pk,
            "_instance_type": layer.instance_type,
            "_tstamp": TSTAMP,
            "_operation": "initial_state",
            **fields,
        }, path


def test_serialize_many_matches_serialize(project_tree, second_project):
    state_model = project_state()

    for layer in state_model.layers:
        rows = list(layer.queryset_for_anchors([project_tree.project.pk, second_project.project.pk]))
        assert layer.serialize_many(rows, TSTAMP) == [layer.serialize(row, TSTAMP) for row in rows], layer


def test_serialize_rejects_unknown_operation(project_tree):
    root = project_state().root

    with pytest.raises(ValueError, match="'upsert'"):
        root.serialize(project_tree.project, TSTAMP, "upsert")


def test_flat_id_without_id_field(project_tree):
    state_model = StateModel(ProjectWithTagNamesSerializer(), "TagNamesChannel")
    layer = layer_at(state_model, "tags")
    urgent = project_tree.tags.urgent

    flat = layer.serialize(urgent, TSTAMP)

    assert flat["id"] == urgent.pk
    assert flat["name"] == "urgent"


def test_flat_serializer_class_keeps_declared_serializer():
    layer = layer_at(project_state(), "tasks")
    flat_class = layer.flat_serializer_class

    fields = flat_class().fields

    assert issubclass(flat_class, TaskSerializer)
    assert flat_class.Meta is TaskSerializer.Meta
    assert list(fields) == TaskSerializer.Meta.fields
    assert isinstance(fields["comment_count"], serializers.SerializerMethodField)
    assert isinstance(fields["assignee"], serializers.PrimaryKeyRelatedField)
    assert fields["assignee"].read_only
    assert isinstance(fields["comments"], serializers.ManyRelatedField)
    assert fields["comments"].source == "comment_set"


def test_flat_serializer_class_shared_by_layers():
    state_model = project_state()

    classes = {layer.flat_serializer_class for layer in state_model.layers_for_serializer(UserSerializer)}

    assert len(classes) == 1


def test_user_id_of(project_tree):
    state_model = project_state()
    notes = layer_at(state_model, "notes")
    tasks = layer_at(state_model, "tasks")

    note_flat = notes.serialize(project_tree.notes.bob, TSTAMP)
    task_flat = tasks.serialize(project_tree.tasks.spec, TSTAMP)

    assert notes.user_id_of(note_flat) == project_tree.bob.pk
    assert tasks.user_id_of(task_flat) is None


# queryset_for_anchors and load_anchor


def test_queryset_for_anchors_lists_each_row_once(project_tree, second_project):
    layer = layer_at(project_state(), "tasks.assignee")

    both = list(layer.queryset_for_anchors([project_tree.project.pk, second_project.project.pk]))
    second_only = list(layer.queryset_for_anchors([second_project.project.pk]))

    assert sorted(user.pk for user in both) == sorted([project_tree.alice.pk, project_tree.bob.pk])
    assert [user.pk for user in second_only] == [project_tree.bob.pk]


def test_queryset_for_anchors_through_hidden_relation(project_tree, second_project):
    layer = layer_at(project_state(), "tasks.comments.author")

    authors = list(layer.queryset_for_anchors([project_tree.project.pk]))

    assert sorted(user.pk for user in authors) == sorted([project_tree.alice.pk, project_tree.bob.pk])
    assert list(layer.queryset_for_anchors([second_project.project.pk])) == []


def build_projects(owner, count):
    """Create `count` projects, each with a detail, two tags, two tasks with two comments each, and a note."""
    first_tag = Tag.objects.create(name=f"first-{count}")
    second_tag = Tag.objects.create(name=f"second-{count}")
    projects = []
    for number in range(count):
        project = Project.objects.create(name=f"Project {number}", owner=owner)
        project.tags.set([first_tag, second_tag])
        ProjectDetail.objects.create(project=project, description=f"Detail {number}")
        for position in range(2):
            task = Task.objects.create(project=project, title=f"Task {position}", position=position, assignee=owner)
            Comment.objects.create(task=task, author=owner, text="First")
            Comment.objects.create(task=task, author=owner, text="Second")
        Note.objects.create(project=project, user=owner, text="Mine")
        projects.append(project)
    return [project.pk for project in projects]


def query_budget(layer):
    # The rows themselves, then one prefetch query per many-relation of the flat serializer.
    return 1 + sum(1 for child in layer.children if child.many)


def count_serialize_queries(layer, anchor_ids):
    with CaptureQueriesContext(connection) as context:
        layer.serialize_many(layer.queryset_for_anchors(anchor_ids), TSTAMP)
    return len(context.captured_queries)


def test_layer_rows_query_budget(alice, django_assert_max_num_queries):
    few = build_projects(alice, 2)
    many = build_projects(alice, 8)
    state_model = project_state()

    for layer in state_model.layers:
        with django_assert_max_num_queries(query_budget(layer)):
            flats = layer.serialize_many(layer.queryset_for_anchors(many), TSTAMP)
        assert flats, layer
        assert count_serialize_queries(layer, few) == count_serialize_queries(layer, many), layer


def test_dotted_source_query_budget(alice, django_assert_max_num_queries):
    anchor_ids = build_projects(alice, 5)
    task_count = Task.objects.filter(project__in=anchor_ids).count()
    state_model = StateModel(ProjectTaskCountSerializer(), "TaskCountChannel")
    layer = layer_at(state_model, "tasks")

    # select_related joins the project of source="project.open_task_count", so the only
    # query per row is the one open_task_count runs itself.
    with django_assert_max_num_queries(1 + task_count):
        flats = layer.serialize_many(layer.queryset_for_anchors(anchor_ids), TSTAMP)

    assert len(flats) == task_count
    assert {flat["project_open_tasks"] for flat in flats} == {2}


def test_load_anchor_deduplicates_instances(project_tree, second_project):
    state_model = project_state()

    flats = load_all(state_model, project_tree.project.pk)

    counts = {}
    for flat in flats:
        counts[flat["_instance_type"]] = counts.get(flat["_instance_type"], 0) + 1
    assert counts == {
        PREFIX + "ProjectSerializer": 1,
        PREFIX + "UserSerializer": 2,
        PREFIX + "TagSerializer": 2,
        PREFIX + "ProjectDetailSerializer": 1,
        PREFIX + "TaskSerializer": 3,
        PREFIX + "CommentSerializer": 3,
        PREFIX + "NoteSerializer": 2,
    }
    keys = [(flat["_instance_type"], flat["id"]) for flat in flats]
    assert len(keys) == len(set(keys))


def test_load_anchor_starts_with_anchor(project_tree):
    flats = load_all(project_state(), project_tree.project.pk)

    assert flats[0]["_instance_type"] == PREFIX + "ProjectSerializer"
    assert flats[0]["id"] == project_tree.project.pk
    assert {flat["_tstamp"] for flat in flats} == {TSTAMP}
    assert {flat["_operation"] for flat in flats} == {"initial_state"}


def test_load_anchor_batches(project_tree):
    state_model = project_state()

    batches = list(state_model.load_anchor(project_tree.project.pk, TSTAMP, 3))

    assert [len(batch) for batch in batches] == [3, 3, 3, 3, 2]
    assert [flat for batch in batches for flat in batch] == load_all(state_model, project_tree.project.pk)


def test_load_anchor_of_missing_anchor(db):
    assert load_all(project_state(), 10_000) == []


def test_load_anchor_rejects_batch_size_zero(project_tree):
    with pytest.raises(ValueError, match="batch_size"):
        next(project_state().load_anchor(project_tree.project.pk, TSTAMP, 0))


def test_load_anchor_query_budget(alice, django_assert_max_num_queries):
    small = build_projects(alice, 1)[0]
    Task.objects.bulk_create(Task(project_id=small, title=f"Extra {number}") for number in range(30))
    state_model = project_state()
    budget = sum(query_budget(layer) for layer in state_model.layers)

    with django_assert_max_num_queries(budget):
        flats = load_all(state_model, small)

    assert sum(1 for flat in flats if flat["_instance_type"] == PREFIX + "TaskSerializer") == 32


def test_load_anchor_query_budget_with_small_batches(alice, django_assert_max_num_queries):
    anchor = build_projects(alice, 1)[0]
    state_model = project_state()
    # Each chunk of batch_size rows runs its own prefetch queries.
    budget = sum(query_budget(layer) * 2 for layer in state_model.layers)

    with django_assert_max_num_queries(budget):
        flats = load_all(state_model, anchor, batch_size=2)

    assert len(flats) == 1 + 1 + 2 + 1 + 2 + 4 + 1


# Nesting


def test_nest_equals_nested_serializer(project_tree, second_project):
    state_model = project_state()
    project = project_tree.project

    nested = state_model.nest(load_all(state_model, project.pk), project.pk)

    assert nested == ProjectSerializer(project).data
    assert nested == render(ProjectSerializer(project).data)


def test_nest_project_without_detail(project_tree, second_project):
    state_model = project_state()
    project = second_project.project

    nested = state_model.nest(load_all(state_model, project.pk), project.pk)

    assert nested == render(ProjectSerializer(project).data)
    assert nested["detail"] is None


def test_nest_list_state(project_tree, second_project):
    state_model = StateModel(ProjectListSerializer(many=True), "ProjectListChannel")

    for project in (project_tree.project, second_project.project):
        nested = state_model.nest(load_all(state_model, project.pk), project.pk)
        assert nested == render(ProjectListSerializer(project).data)


def test_nest_reverse_many_to_many_anchor(project_tree, second_project):
    state_model = StateModel(TagAnchorSerializer(), "TagChannel")
    tag = project_tree.tags.backend

    nested = state_model.nest(load_all(state_model, tag.pk), tag.pk)

    assert nested == render(TagAnchorSerializer(tag).data)
    assert len(nested["projects"]) == 2


def test_nest_omits_id_missing_from_serializer(project_tree):
    state_model = StateModel(ProjectWithTagNamesSerializer(), "TagNamesChannel")
    project = project_tree.project

    nested = state_model.nest(load_all(state_model, project.pk), project.pk)

    assert nested == render(ProjectWithTagNamesSerializer(project).data)
    assert nested["tags"] == [{"name": "backend"}, {"name": "urgent"}]


def test_nest_skips_other_users_notes(project_tree):
    state_model = project_state()
    project = project_tree.project
    alice = project_tree.alice
    layers = {layer.instance_type: layer for layer in state_model.layers}

    visible = [
        flat
        for flat in load_all(state_model, project.pk)
        if layers[flat["_instance_type"]].user_id_of(flat) in (None, alice.pk)
    ]
    nested = state_model.nest(visible, project.pk)

    assert nested["notes"] == [
        {"id": project_tree.notes.alice.pk, "text": "Ask bob about the deadline", "user": alice.pk}
    ]


def test_nest_applies_updates_and_deletes(project_tree):
    state_model = project_state()
    project = project_tree.project
    task_type = PREFIX + "TaskSerializer"
    update = {"id": project_tree.tasks.ship.pk, "_instance_type": task_type, "_operation": "update", "title": "Go"}
    delete = {
        "id": project_tree.comments.late.pk,
        "_instance_type": PREFIX + "CommentSerializer",
        "_operation": "delete",
    }

    nested = state_model.nest([*load_all(state_model, project.pk), update, delete], project.pk)

    tasks = {task["id"]: task for task in nested["tasks"]}
    assert tasks[project_tree.tasks.ship.pk]["title"] == "Go"
    assert tasks[project_tree.tasks.ship.pk]["done"] is False
    assert [comment["id"] for comment in tasks[project_tree.tasks.api.pk]["comments"]] == [
        project_tree.comments.early.pk
    ]


def test_nest_without_anchor_instance(project_tree):
    state_model = project_state()
    flats = [
        flat
        for flat in load_all(state_model, project_tree.project.pk)
        if flat["_instance_type"] != PREFIX + "ProjectSerializer"
    ]

    with pytest.raises(LookupError, match="anchor"):
        state_model.nest(flats, project_tree.project.pk)


def test_nest_accepts_anchor_id_as_string(project_tree):
    state_model = project_state()
    project = project_tree.project

    nested = state_model.nest(load_all(state_model, project.pk), str(project.pk))

    assert nested["id"] == project.pk


# related_property


def test_related_property_is_property(project_tree):
    prop = Project.__dict__["open_task_count"]

    assert isinstance(prop, RelatedProperty)
    assert prop.relations == ("tasks",)
    assert project_tree.project.open_task_count == 2


def test_related_property_requires_relations():
    with pytest.raises(TypeError, match="at least one relation"):
        related_property()


def test_related_property_rejects_bare_decorator():
    with pytest.raises(TypeError, match=r"@related_property\('tasks'\)"):

        @related_property
        def count(self):
            return 0


def test_related_property_rejects_non_string_relation():
    with pytest.raises(TypeError, match="non-empty strings"):
        related_property("tasks", 3)


def test_related_property_watches():
    state_model = project_state()

    assert state_model.related_property_watches == [RelatedPropertyWatch(Task, state_model.root, "tasks")]


def test_related_property_watches_of_list_state():
    state_model = StateModel(ProjectListSerializer(many=True), "ProjectListChannel")

    assert state_model.related_property_watches == [RelatedPropertyWatch(Task, state_model.root, "tasks")]


def test_related_property_watch_through_dotted_source(project_tree):
    state_model = StateModel(ProjectTaskCountSerializer(), "TaskCountChannel")
    layer = layer_at(state_model, "tasks")

    assert state_model.related_property_watches == [RelatedPropertyWatch(Task, layer, "project__tasks")]
    rows = layer.model.objects.filter(project__tasks=project_tree.tasks.ship.pk)
    assert {task.pk for task in rows} == {task.pk for task in project_tree.project.tasks.all()}


def test_related_property_watch_lookup_finds_rows(project_tree, second_project):
    watch = project_state().related_property_watches[0]

    rows = watch.layer.model.objects.filter(**{watch.lookup: project_tree.tasks.api.pk})

    assert list(rows) == [project_tree.project]


def test_related_property_accepts_reverse_accessor(monkeypatch):
    monkeypatch.setattr(Task, "comment_total", related_property("comment_set")(lambda task: 0), raising=False)

    class TaskTotalSerializer(serializers.ModelSerializer):
        comment_total = serializers.ReadOnlyField()

        class Meta:
            model = Task
            fields = ["id", "comment_total"]

    state_model = StateModel(TaskTotalSerializer(), "TaskChannel")

    assert state_model.related_property_watches == [RelatedPropertyWatch(Comment, state_model.root, "comment")]


# Validation errors


def assert_message_names(error, *fragments):
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message


def test_error_state_is_class():
    with pytest.raises(ChannelConfigError) as error:
        StateModel(ProjectSerializer, "BrokenChannel")

    assert_message_names(error, "BrokenChannel.Meta.state", "class ProjectSerializer", "state = ProjectSerializer()")


def test_error_state_not_model_serializer():
    class PlainSerializer(serializers.Serializer):
        name = serializers.CharField()

    with pytest.raises(ChannelConfigError) as error:
        StateModel(PlainSerializer(many=True), "BrokenChannel")

    assert_message_names(error, "BrokenChannel.Meta.state", "PlainSerializer", "not a ModelSerializer instance")


def test_error_state_without_meta_model():
    class ModelessSerializer(serializers.ModelSerializer):
        pass

    with pytest.raises(ChannelConfigError) as error:
        StateModel(ModelessSerializer(), "BrokenChannel")

    assert_message_names(error, "BrokenChannel", "ModelessSerializer.Meta.model", "is missing", "model =")


def test_error_nested_not_model_serializer():
    class OwnerSerializer(serializers.Serializer):
        username = serializers.CharField()

    class BrokenProjectSerializer(serializers.ModelSerializer):
        owner = OwnerSerializer(read_only=True)

        class Meta:
            model = Project
            fields = ["id", "owner"]

    with pytest.raises(ChannelConfigError) as error:
        StateModel(BrokenProjectSerializer(), "BrokenChannel")

    assert_message_names(
        error,
        "BrokenChannel.Meta.state",
        "BrokenProjectSerializer.owner",
        "OwnerSerializer, which is not a ModelSerializer",
        "Make OwnerSerializer a ModelSerializer",
    )


def test_error_nested_dotted_source():
    class BrokenTaskSerializer(serializers.ModelSerializer):
        owner = UserSerializer(read_only=True, source="project.owner")

        class Meta:
            model = Task
            fields = ["id", "owner"]

    with pytest.raises(ChannelConfigError) as error:
        StateModel(BrokenTaskSerializer(), "BrokenChannel")

    assert_message_names(
        error,
        "BrokenChannel.Meta.state",
        "BrokenTaskSerializer.owner",
        "source 'project.owner', which is not a relation of Task",
        "'project'",
    )


def test_error_nested_source_not_relation():
    class BrokenProjectSerializer(serializers.ModelSerializer):
        first_task = TaskSerializer(read_only=True, source="name")

        class Meta:
            model = Project
            fields = ["id", "first_task"]

    with pytest.raises(ChannelConfigError) as error:
        StateModel(BrokenProjectSerializer(), "BrokenChannel")

    assert_message_names(
        error,
        "BrokenChannel.Meta.state",
        "BrokenProjectSerializer.first_task",
        "source 'name', which is not a relation of Project",
        "'tasks'",
    )


def test_error_nested_to_many_without_many():
    class BrokenProjectSerializer(serializers.ModelSerializer):
        tasks = TaskSerializer(read_only=True)

        class Meta:
            model = Project
            fields = ["id", "tasks"]

    with pytest.raises(ChannelConfigError) as error:
        StateModel(BrokenProjectSerializer(), "BrokenChannel")

    assert_message_names(
        error,
        "BrokenChannel.Meta.state",
        "BrokenProjectSerializer.tasks",
        "without many=True",
        "TaskSerializer(many=True, read_only=True)",
    )


def test_error_nested_many_on_single_relation():
    class BrokenTaskSerializer(serializers.ModelSerializer):
        assignee = UserSerializer(many=True, read_only=True)

        class Meta:
            model = Task
            fields = ["id", "assignee"]

    with pytest.raises(ChannelConfigError) as error:
        StateModel(BrokenTaskSerializer(), "BrokenChannel")

    assert_message_names(
        error,
        "BrokenChannel.Meta.state",
        "BrokenTaskSerializer.assignee",
        "has many=True",
        "UserSerializer(read_only=True), without many=True",
    )


def test_error_nested_wrong_model():
    class BrokenProjectSerializer(serializers.ModelSerializer):
        tasks = TagSerializer(many=True, read_only=True)

        class Meta:
            model = Project
            fields = ["id", "tasks"]

    with pytest.raises(ChannelConfigError) as error:
        StateModel(BrokenProjectSerializer(), "BrokenChannel")

    assert_message_names(
        error,
        "BrokenChannel.Meta.state",
        "BrokenProjectSerializer.tasks",
        "serializes Tag rows, but 'tasks' leads to Task",
        "Meta.model is Task",
    )


def test_error_user_key_not_in_fields():
    class BrokenNoteSerializer(serializers.ModelSerializer):
        class Meta:
            model = Note
            fields = ["id", "text"]
            user_key = "user"

    with pytest.raises(ChannelConfigError) as error:
        StateModel(BrokenNoteSerializer(), "BrokenChannel")

    assert_message_names(
        error,
        "BrokenChannel.Meta.state",
        "BrokenNoteSerializer.Meta.user_key",
        "'user', which is not a field of BrokenNoteSerializer",
        "Add 'user' to BrokenNoteSerializer.Meta.fields",
    )


def test_error_user_key_not_model_field():
    class BrokenNoteSerializer(serializers.ModelSerializer):
        writer = serializers.SerializerMethodField()

        class Meta:
            model = Note
            fields = ["id", "text", "writer"]
            user_key = "writer"

        def get_writer(self, note) -> int:
            return note.user_id

    with pytest.raises(ChannelConfigError) as error:
        StateModel(BrokenNoteSerializer(), "BrokenChannel")

    assert_message_names(
        error,
        "BrokenChannel.Meta.state",
        "BrokenNoteSerializer.Meta.user_key",
        "is not a field of Note",
        "ForeignKey to the user model",
    )


@pytest.mark.parametrize("timeout", [0, -1, "3", True, None, float("nan"), float("inf")])
def test_error_optimistic_timeout(timeout):
    class BrokenTagSerializer(serializers.ModelSerializer):
        class Meta:
            model = Tag
            fields = ["id", "name"]
            optimistic = True
            optimistic_timeout = timeout

    with pytest.raises(ChannelConfigError) as error:
        StateModel(BrokenTagSerializer(), "BrokenChannel")

    assert_message_names(
        error,
        "BrokenChannel.Meta.state",
        "BrokenTagSerializer.Meta.optimistic_timeout",
        f"is {timeout!r}, not a positive number of seconds",
        "Set optimistic_timeout to a number above 0",
    )


def test_error_optimistic_not_boolean():
    class BrokenTagSerializer(serializers.ModelSerializer):
        class Meta:
            model = Tag
            fields = ["id", "name"]
            optimistic = "yes"

    with pytest.raises(ChannelConfigError) as error:
        StateModel(BrokenTagSerializer(), "BrokenChannel")

    assert_message_names(
        error, "BrokenChannel.Meta.state", "BrokenTagSerializer.Meta.optimistic", "not a boolean", "optimistic = True"
    )


def test_error_meta_depth():
    class DeepProjectSerializer(serializers.ModelSerializer):
        class Meta:
            model = Project
            fields = ["id", "owner"]
            depth = 1

    with pytest.raises(ChannelConfigError) as error:
        StateModel(DeepProjectSerializer(), "BrokenChannel")

    assert_message_names(
        error, "BrokenChannel.Meta.state", "DeepProjectSerializer.Meta.depth", "Remove Meta.depth", "as a field"
    )


def test_error_reserved_field_name():
    class BrokenTagSerializer(serializers.ModelSerializer):
        _tstamp = serializers.SerializerMethodField()

        class Meta:
            model = Tag
            fields = ["id", "_tstamp"]

        def get__tstamp(self, tag) -> int:
            return 0

    with pytest.raises(ChannelConfigError) as error:
        StateModel(BrokenTagSerializer(), "BrokenChannel")

    assert_message_names(
        error, "BrokenChannel.Meta.state", "BrokenTagSerializer._tstamp", "reserves", "Rename the field"
    )


def test_error_related_property_lookup(monkeypatch):
    monkeypatch.setattr(Project, "broken_count", related_property("milestones")(lambda project: 0), raising=False)

    class BrokenProjectSerializer(serializers.ModelSerializer):
        broken_count = serializers.ReadOnlyField()

        class Meta:
            model = Project
            fields = ["id", "broken_count"]

    with pytest.raises(ChannelConfigError) as error:
        StateModel(BrokenProjectSerializer(), "BrokenChannel")

    assert_message_names(
        error,
        "BrokenChannel.Meta.state",
        "BrokenProjectSerializer.broken_count",
        "lookup 'milestones' is not a relation path of Project",
        "'tasks'",
    )
