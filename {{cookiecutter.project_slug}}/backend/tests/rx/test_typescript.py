"""TypeScript types and classes that makefrontend renders from serializers and channels."""

import datetime
import decimal
import uuid
from types import SimpleNamespace
from typing import Literal, NotRequired, Optional, TypedDict

import pytest
from django.contrib.sessions.models import Session
from django.test import override_settings
from django.urls import include, path, re_path
from rest_framework import serializers

from rxdjango.operations import CREATE, DELETE, SAVE
from rxdjango.state_model import instance_type_of
from rxdjango.typescript import GenerationError, generate
from rxdjango.typescript.channel_classes import render_channel_class, render_runtime_state
from rxdjango.typescript.fields import FieldTyper
from rxdjango.typescript.generator import _import_statement
from rxdjango.typescript.interfaces import SerializerNames, collect_serializers, render_interface, render_payload
from rxdjango.typescript.python_types import python_type_to_ts
from rxdjango.typescript.routes import ChannelRoute, find_channel_routes
from rxdjango.typescript.state_types import render_channel_state_types
from rxdjango.typescript.tstypes import union
from tests.rxapp.channels import ProjectChannel, ProjectListChannel
from tests.rxapp.models import Comment, Project, Tag, Task
from tests.rxapp.serializers import (
    NoteSerializer,
    ProjectDetailSerializer,
    ProjectSerializer,
    TagSerializer,
    TaskSerializer,
)

TASK_TYPE = instance_type_of(TaskSerializer)

PROJECT_ROUTE = ChannelRoute("ws/project/{project_id}/", (("project_id", "number"),), "ws/project/<int:project_id>/")


def interface_name(serializer_class):
    return f"{serializer_class.__name__}Type"


def field_type(field, *, base=serializers.Serializer, model=None, flat=False, **attributes):
    """Bind `field` as "value" of a new serializer and return its TypeScript type."""
    namespace = {"value": field, **attributes}
    if model is not None:
        base = serializers.ModelSerializer
        namespace["Meta"] = type("Meta", (), {"model": model, "fields": ["value"]})
    serializer_class = type("SampleSerializer", (base,), namespace)
    bound = serializer_class().fields["value"]
    return FieldTyper(interface_name, flat=flat).field_type(bound)


DIGITS = {"max_digits": 6, "decimal_places": 2}
NULLABLE_CHAR = serializers.CharField(allow_null=True)

FIELD_TYPES = [
    ("CharField", serializers.CharField(), "string"),
    ("SlugField", serializers.SlugField(), "string"),
    ("EmailField", serializers.EmailField(), "string"),
    ("URLField", serializers.URLField(), "string"),
    ("RegexField", serializers.RegexField(r"^a+$"), "string"),
    ("UUIDField", serializers.UUIDField(), "string"),
    ("UUIDField int format", serializers.UUIDField(format="int"), "number"),
    ("IPAddressField", serializers.IPAddressField(), "string"),
    ("IntegerField", serializers.IntegerField(), "number"),
    ("FloatField", serializers.FloatField(), "number"),
    ("BigIntegerField", serializers.BigIntegerField(), "number"),
    ("BigIntegerField as string", serializers.BigIntegerField(coerce_to_string=True), "string"),
    ("DecimalField default", serializers.DecimalField(**DIGITS), "string"),
    (
        "DecimalField as string",
        serializers.DecimalField(**DIGITS, coerce_to_string=True),
        "string",
    ),
    (
        "DecimalField as number",
        serializers.DecimalField(**DIGITS, coerce_to_string=False),
        "number",
    ),
    ("DecimalField localized", serializers.DecimalField(**DIGITS, localize=True), "string"),
    ("BooleanField", serializers.BooleanField(), "boolean"),
    ("DateField", serializers.DateField(), "string"),
    ("DateTimeField", serializers.DateTimeField(), "string"),
    ("TimeField", serializers.TimeField(), "string"),
    ("DurationField", serializers.DurationField(), "string"),
    ("ChoiceField strings", serializers.ChoiceField(choices=["open", "done"]), "'open' | 'done'"),
    ("ChoiceField numbers", serializers.ChoiceField(choices=[(1, "low"), (2, "high")]), "1 | 2"),
    ("ChoiceField blank", serializers.ChoiceField(choices=["open"], allow_blank=True), "'open' | ''"),
    ("ChoiceField quote", serializers.ChoiceField(choices=["it's"]), "'it\\'s'"),
    ("MultipleChoiceField", serializers.MultipleChoiceField(choices=["a", "b"]), "('a' | 'b')[]"),
    ("allow_null", serializers.CharField(allow_null=True), "string | null"),
    ("IntegerField allow_null", serializers.IntegerField(allow_null=True), "number | null"),
    ("ListField", serializers.ListField(child=serializers.IntegerField()), "number[]"),
    ("ListField no child", serializers.ListField(), "unknown[]"),
    (
        "ListField nullable child",
        serializers.ListField(child=serializers.CharField(allow_null=True)),
        "(string | null)[]",
    ),
    ("DictField", serializers.DictField(child=serializers.BooleanField()), "Record<string, boolean>"),
    ("DictField no child", serializers.DictField(), "Record<string, unknown>"),
    ("HStoreField", serializers.HStoreField(), "Record<string, string | null>"),
    ("JSONField", serializers.JSONField(), "unknown"),
    ("JSONField allow_null", serializers.JSONField(allow_null=True), "unknown"),
    ("FileField", serializers.FileField(), "string | null"),
    ("StringRelatedField", serializers.StringRelatedField(), "string"),
    ("ReadOnlyField without model", serializers.ReadOnlyField(), "unknown"),
]


@pytest.mark.parametrize(("field", "expected"), [row[1:] for row in FIELD_TYPES], ids=[row[0] for row in FIELD_TYPES])
def test_field_type_table(field, expected):
    assert field_type(field) == expected


def test_decimal_follows_coerce_setting():
    field = serializers.DecimalField(max_digits=6, decimal_places=2)
    with override_settings(REST_FRAMEWORK={"COERCE_DECIMAL_TO_STRING": False}):
        assert field_type(field) == "number"
    assert field_type(serializers.DecimalField(max_digits=6, decimal_places=2)) == "string"


class AnnotatedSerializer(serializers.Serializer):
    def get_value_int(self, obj) -> int: ...
    def get_value_float(self, obj) -> float: ...
    def get_value_str(self, obj) -> str: ...
    def get_value_bool(self, obj) -> bool: ...
    def get_value_list(self, obj) -> list[int]: ...
    def get_value_dict(self, obj) -> dict: ...
    def get_value_optional(self, obj) -> Optional[str]: ...  # noqa: UP045 - the typing.Optional spelling is under test
    def get_value_union_none(self, obj) -> int | None: ...
    def get_value_nested_list(self, obj) -> list[str | None]: ...
    def get_value_bare(self, obj): ...


METHOD_TYPES = [
    ("get_value_int", "number"),
    ("get_value_float", "number"),
    ("get_value_str", "string"),
    ("get_value_bool", "boolean"),
    ("get_value_list", "number[]"),
    ("get_value_dict", "Record<string, unknown>"),
    ("get_value_optional", "string | null"),
    ("get_value_union_none", "number | null"),
    ("get_value_nested_list", "(string | null)[]"),
    ("get_value_bare", "unknown"),
]


@pytest.mark.parametrize(("method_name", "expected"), METHOD_TYPES)
def test_method_field_uses_return_annotation(method_name, expected):
    field = serializers.SerializerMethodField(method_name=method_name)
    assert field_type(field, base=AnnotatedSerializer) == expected


PYTHON_TYPES = [
    ("int", int, "number"),
    ("float", float, "number"),
    ("str", str, "string"),
    ("bool", bool, "boolean"),
    ("None", None, "null"),
    ("list of int", list[int], "number[]"),
    ("bare list", list, "unknown[]"),
    ("dict", dict, "Record<string, unknown>"),
    ("dict of int", dict[str, int], "Record<string, number>"),
    ("Optional", Optional[int], "number | null"),  # noqa: UP045 - the typing.Optional spelling is under test
    ("union with None", str | None, "string | null"),
    ("union of scalars", int | str, "number | string"),
    ("Literal", Literal["a", 2, True], "'a' | 2 | true"),
    ("fixed tuple", tuple[int, str], "[number, string]"),
    ("variable tuple", tuple[int, ...], "number[]"),
    ("datetime", datetime.datetime, "string"),
    ("date", datetime.date, "string"),
    ("Decimal", decimal.Decimal, "number"),
    ("UUID", uuid.UUID, "string"),
    ("object", object, "unknown"),
    ("unknown class", Project, "unknown"),
    ("union with unknown", int | object, "unknown"),
]


@pytest.mark.parametrize(("hint", "expected"), [row[1:] for row in PYTHON_TYPES], ids=[row[0] for row in PYTHON_TYPES])
def test_python_type_table(hint, expected):
    assert python_type_to_ts(hint) == expected


class Point(TypedDict):
    x: float
    label: NotRequired[str]


def test_typed_dict_becomes_object_type():
    assert python_type_to_ts(Point) == "{ x: number; label?: string }"


def test_union_drops_duplicates_and_puts_null_last():
    assert union("null", "string", "string | null") == "string | null"


# Fields that need a model: relations, read-only sources and nullable model fields.


def test_primary_key_related_field_is_pk_type():
    assert field_type(serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())) == "number"


def test_primary_key_related_field_many_is_array():
    field = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True)
    assert field_type(field) == "number[]"


def test_primary_key_related_field_char_pk_is_string():
    assert field_type(serializers.PrimaryKeyRelatedField(queryset=Session.objects.all())) == "string"


def test_primary_key_related_field_pk_field_wins():
    field = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all(), pk_field=serializers.UUIDField())
    assert field_type(field) == "string"


def test_read_only_related_field_resolves_through_source():
    field = serializers.PrimaryKeyRelatedField(read_only=True, source="project")
    assert field_type(field, model=Task) == "number"


def test_read_only_reverse_relation_resolves_through_accessor():
    field = serializers.PrimaryKeyRelatedField(read_only=True, many=True, source="tasks")
    assert field_type(field, model=Project) == "number[]"


def test_nullable_foreign_key_is_nullable():
    field = serializers.PrimaryKeyRelatedField(read_only=True, source="assignee")
    assert field_type(field, model=Task) == "number | null"


def test_slug_related_field_is_slug_type():
    field = serializers.SlugRelatedField(slug_field="name", queryset=Tag.objects.all())
    assert field_type(field) == "string"


def test_hyperlinked_related_field_is_string():
    field = serializers.HyperlinkedRelatedField(read_only=True, view_name="project-detail", source="project")
    assert field_type(field, model=Task) == "string"


READ_ONLY_SOURCES = [
    ("name", "string"),
    ("budget", "number"),
    ("public_id", "string"),
    ("starts_at", "string | null"),
    ("open_task_count", "unknown"),
    ("owner.username", "string"),
    ("owner_id", "number"),
]


@pytest.mark.parametrize(("source", "expected"), READ_ONLY_SOURCES)
def test_read_only_field_follows_model_field(source, expected):
    assert field_type(serializers.ReadOnlyField(source=source), model=Project) == expected


def test_read_only_field_uses_property_annotation(monkeypatch):
    def headline(project) -> str:
        return project.name

    monkeypatch.setattr(Project, "headline", property(headline), raising=False)
    assert field_type(serializers.ReadOnlyField(source="headline"), model=Project) == "string"


def test_nested_serializer_is_interface():
    assert field_type(TaskSerializer(read_only=True, source="task"), model=Comment) == "TaskSerializerType"


def test_nested_serializer_many_is_array():
    field = TaskSerializer(many=True, read_only=True, source="tasks")
    assert field_type(field, model=Project) == "TaskSerializerType[]"


def test_nested_serializer_flat_is_ids():
    field = TaskSerializer(many=True, read_only=True, source="tasks")
    assert field_type(field, model=Project, flat=True) == "number[]"


# Interfaces and payloads


def test_interface_lists_serializer_fields():
    serializers_by_class = collect_serializers([ProjectSerializer()])
    names = SerializerNames(serializers_by_class)
    rendered = render_interface(serializers_by_class[TaskSerializer], names)

    assert "export interface TaskType {" in rendered
    assert "  title: string;" in rendered
    assert "  done: boolean;" in rendered
    assert "  assignee: UserType | null;" in rendered
    assert "  comments: CommentType[];" in rendered
    assert "  comment_count: number;" in rendered


def test_collect_serializers_walks_nesting():
    found = collect_serializers([ProjectSerializer()])
    names = sorted(serializer_class.__name__ for serializer_class in found)
    assert names == [
        "CommentSerializer",
        "NoteSerializer",
        "ProjectDetailSerializer",
        "ProjectSerializer",
        "TagSerializer",
        "TaskSerializer",
        "UserSerializer",
    ]


def test_same_class_names_get_numbers():
    other = type("TaskSerializer", (serializers.Serializer,), {"__module__": "other.serializers"})
    names = SerializerNames([TaskSerializer, other])
    # Numbers follow instance type order, and "other.serializers" sorts before "tests.rxapp.serializers".
    assert names.interface(other) == "TaskType"
    assert names.interface(TaskSerializer) == "Task2Type"


def test_payload_marks_optional_fields():
    layer = ProjectChannel.state_model.layers_for_serializer(TaskSerializer)[0]
    names = SerializerNames([TaskSerializer])
    rendered = render_payload(TaskSerializer, layer.flat_serializer_class, names)

    assert "export interface TaskPayload {" in rendered
    assert "  title: string;" in rendered
    assert "  done?: boolean;" in rendered
    assert "  position?: number;" in rendered
    assert "id" not in rendered.split("{", 1)[1]
    assert "assignee" not in rendered
    assert "comment_count" not in rendered


def test_empty_payload_is_empty_record():
    class ReadOnlyTagSerializer(serializers.ModelSerializer):
        class Meta:
            model = Tag
            fields = ["id"]

    rendered = render_payload(ReadOnlyTagSerializer, ReadOnlyTagSerializer, SerializerNames([ReadOnlyTagSerializer]))
    assert "export type ReadOnlyTagPayload = Record<string, never>;" in rendered


# Routes


def routed_channel():
    """Return an ASGI callback shaped like ContextChannel.as_asgi()'s, serving ProjectChannel."""

    def application(scope, receive, send): ...

    application.consumer_class = SimpleNamespace(channel_class=ProjectChannel)
    return application


def test_route_int_converter_is_number():
    routes, warnings = find_channel_routes([path("ws/project/<int:project_id>/", routed_channel())])
    assert routes[ProjectChannel].template == "ws/project/{project_id}/"
    assert routes[ProjectChannel].parameters == (("project_id", "number"),)
    assert warnings == []


def test_route_str_converters_are_strings():
    routes, _ = find_channel_routes([path("ws/<slug:team>/<uuid:key>/<name>/", routed_channel())])
    assert routes[ProjectChannel].template == "ws/{team}/{key}/{name}/"
    assert routes[ProjectChannel].parameters == (("team", "string"), ("key", "string"), ("name", "string"))


def test_route_regex_named_groups():
    routes, _ = find_channel_routes([re_path(r"^ws/items/(?P<item_id>[0-9]+)/$", routed_channel())])
    assert routes[ProjectChannel].template == "ws/items/{item_id}/"
    assert routes[ProjectChannel].parameters == (("item_id", "string"),)


def test_route_regex_without_fixed_path_warns():
    routes, warnings = find_channel_routes([re_path(r"^ws/(items|things)/$", routed_channel())])
    assert routes == {}
    assert len(warnings) == 1
    assert "no fixed path" in warnings[0]


def test_route_include_joins_prefix():
    nested = [path("project/<int:project_id>/", routed_channel())]
    routes, _ = find_channel_routes([path("ws/", include(nested))])
    assert routes[ProjectChannel].template == "ws/project/{project_id}/"


# Channel classes


class RuntimeStateSample(TypedDict):
    viewers: int
    title: str | None


class SampleChannel:
    """A stand-in for a ContextChannel subclass, so the test does not register a channel."""

    __module__ = "tests.rxapp.channels"
    __qualname__ = "SampleChannel"
    state_model = ProjectChannel.state_model
    writable = {"tests.rxapp.serializers.TaskSerializer": frozenset({DELETE, SAVE, CREATE})}
    runtime_state_class = RuntimeStateSample

    async def greet(self, name: str, punctuation: str = "!") -> str:
        """Return a greeting.

        Second paragraph, left out of the comment.
        """

    async def total(self, first: int, *rest: int) -> int: ...

    async def rename(self, default: str, *, force: bool = False) -> None: ...

    async def needs_keyword(self, *, force: bool) -> None: ...

    actions = {"greet": greet, "total": total, "rename": rename, "needs_keyword": needs_keyword}


def render_sample(route=PROJECT_ROUTE, channel_class=SampleChannel):
    warnings = []
    rendered = render_channel_class(channel_class, route, "ProjectType", warnings)
    return rendered, warnings


def test_channel_class_declaration():
    rendered, _ = render_sample()
    line = "export class SampleChannel extends ContextChannel<ProjectType, SampleChannelRuntimeState> {"
    assert line in rendered


def test_channel_constructor_types_kwargs():
    rendered, _ = render_sample()
    assert "  constructor(kwargs: { project_id: number }, token: string, options?: ChannelOptions) {" in rendered
    assert "    super(SampleChannel.model, 'ws/project/{project_id}/', kwargs, token, options);" in rendered


def test_unrouted_channel_takes_route_path():
    rendered, _ = render_sample(route=None)
    assert "  constructor(routePath: string, kwargs: Record<string, string | number>, token: string," in rendered
    assert "    super(SampleChannel.model, routePath, kwargs, token, options);" in rendered


def test_channel_model_lists_layers():
    rendered, _ = render_sample()
    assert "    anchor: 'tests.rxapp.serializers.ProjectSerializer'," in rendered
    assert "    many: false," in rendered
    assert "        comments: 'tests.rxapp.serializers.CommentSerializer'," in rendered
    assert "      'tests.rxapp.serializers.ProjectSerializer': ['tags', 'tasks', 'notes']," in rendered
    assert "      'tests.rxapp.serializers.TaskSerializer': ['comments']," in rendered


def test_channel_writable_in_operation_order():
    rendered, _ = render_sample()
    assert "  static override readonly writable = {" in rendered
    assert "    'tests.rxapp.serializers.TaskSerializer': ['save', 'create', 'delete']," in rendered
    assert "  } as const;" in rendered


def test_channel_without_writable_overrides_empty():
    class ReadOnlyChannel(SampleChannel):
        writable = {}

    rendered, _ = render_sample(channel_class=ReadOnlyChannel)
    assert "  static override readonly writable = {} as const;" in rendered
    assert "optimisticTimeoutMs" not in rendered


def test_model_lists_optimistic_timeouts(monkeypatch):
    layer = SampleChannel.state_model.layers_for_serializer(TaskSerializer)[0]
    monkeypatch.setattr(layer, "optimistic", True)
    monkeypatch.setattr(layer, "optimistic_timeout", 1.5)

    rendered, _ = render_sample()

    assert "    optimisticTimeoutMs: {\n      'tests.rxapp.serializers.TaskSerializer': 1500,\n    },\n" in rendered


def test_model_leaves_out_non_optimistic_types(monkeypatch):
    layer = SampleChannel.state_model.layers_for_serializer(TaskSerializer)[0]
    monkeypatch.setattr(layer, "optimistic", False)

    rendered, _ = render_sample()

    assert "    optimisticTimeoutMs: {},\n  };" in rendered


def test_channel_class_uses_state_type():
    rendered = render_channel_class(SampleChannel, PROJECT_ROUTE, "SampleChannelProject", [])
    line = "export class SampleChannel extends ContextChannel<SampleChannelProject, SampleChannelRuntimeState> {"
    assert line in rendered


@pytest.mark.parametrize("name", ["saveInstance", "createInstance", "deleteInstance", "isPending", "getInstance"])
def test_action_named_like_write_member_fails(name):
    async def method(self) -> None: ...

    clash = type("ClashChannel", (SampleChannel,), {name: method, "actions": {name: method}})

    with pytest.raises(GenerationError, match="rename the action"):
        render_sample(channel_class=clash)


def test_action_with_default_trims_missing_params():
    rendered, _ = render_sample()
    assert "  /** Return a greeting. */" in rendered
    assert "  greet(name: string, punctuation?: string): Promise<string> {" in rendered
    assert "    const params: unknown[] = [name, punctuation];" in rendered
    assert "    while (params.length > 1 && params[params.length - 1] === undefined) {" in rendered
    assert "    return this.callAction<string>('greet', params);" in rendered


def test_action_with_rest_parameter():
    rendered, _ = render_sample()
    assert "  total(first: number, ...rest: number[]): Promise<number> {" in rendered
    assert "    return this.callAction<number>('total', [first, ...rest]);" in rendered


def test_action_reserved_parameter_renamed():
    rendered, _ = render_sample()
    assert "  rename(default_: string): Promise<void> {" in rendered
    assert "    return this.callAction<void>('rename', [default_]);" in rendered


def test_action_required_keyword_only_skipped():
    rendered, warnings = render_sample()
    assert "needs_keyword" not in rendered
    assert any("needs_keyword" in warning and "keyword-only" in warning for warning in warnings)


def test_action_named_like_client_member_fails():
    class ClashChannel(SampleChannel):
        async def subscribe(self) -> None: ...

        actions = {"subscribe": subscribe}

    with pytest.raises(GenerationError, match="rename the action"):
        render_sample(channel_class=ClashChannel)


# Channel state types with write methods


class SavableCommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Comment
        fields = ["id", "text"]


class TaskWithCommentsSerializer(serializers.ModelSerializer):
    comments = SavableCommentSerializer(many=True, read_only=True, source="comment_set")

    class Meta:
        model = Task
        fields = ["id", "title", "comments"]


class ProjectWithCommentsSerializer(serializers.ModelSerializer):
    tasks = TaskWithCommentsSerializer(many=True, read_only=True)

    class Meta:
        model = Project
        fields = ["id", "name", "tasks"]


def state_types_of(writable, anchor=ProjectSerializer):
    """Render the state types of a stand-in channel named SampleChannel with the given Meta.writable."""
    channel_class = type(
        "SampleChannel",
        (),
        {
            "state_model": SimpleNamespace(root=SimpleNamespace(serializer_class=anchor)),
            "writable": {instance_type_of(cls): frozenset(operations) for cls, operations in writable.items()},
        },
    )
    serializers_by_class = collect_serializers([anchor()])
    return render_channel_state_types(channel_class, serializers_by_class, SerializerNames(serializers_by_class))


def test_state_type_without_writable_is_interface():
    types = state_types_of({})
    assert types.state_type == "ProjectType"
    assert types.sections == []
    assert types.client_types == set()
    assert types.interfaces == {"ProjectType"}


def test_state_types_add_instance_methods():
    types = state_types_of({TaskSerializer: [SAVE, CREATE, DELETE]})
    task, project = types.sections

    assert task == (
        "/** TaskType in the state of SampleChannel, with the write methods of its Meta.writable. */\n"
        "export type SampleChannelTask = TaskType & Savable<TaskPayload> & Deletable;\n"
    )
    assert "export type SampleChannelProject = Omit<ProjectType, 'tasks'> & {\n" in project
    assert "  tasks: CreatableList<SampleChannelTask, TaskPayload>;\n};\n" in project
    assert types.state_type == "SampleChannelProject"


def test_state_types_list_imports():
    types = state_types_of({TaskSerializer: [SAVE, CREATE, DELETE], ProjectSerializer: [SAVE]})
    assert types.client_types == {"CreatableList", "Deletable", "Savable"}
    assert types.interfaces == {"ProjectPayload", "ProjectType", "TaskPayload", "TaskType"}
    assert "Omit<ProjectType, 'tasks'> & Savable<ProjectPayload> & {" in types.sections[-1]


def test_create_only_child_keeps_interface():
    types = state_types_of({TagSerializer: [CREATE]})
    (project,) = types.sections
    assert "Omit<ProjectType, 'tags'> & {" in project
    assert "  tags: CreatableList<TagType, TagPayload>;" in project
    assert types.interfaces == {"ProjectType", "TagType", "TagPayload"}
    assert types.client_types == {"CreatableList"}


def test_list_without_create_is_array():
    types = state_types_of({TaskSerializer: [SAVE]})
    assert "  tasks: SampleChannelTask[];" in types.sections[-1]
    assert types.client_types == {"Savable"}


def test_nullable_to_one_keeps_null():
    types = state_types_of({ProjectDetailSerializer: [SAVE]})
    detail, project = types.sections
    assert "export type SampleChannelProjectDetail = ProjectDetailType & Savable<ProjectDetailPayload>;" in detail
    assert "  detail: SampleChannelProjectDetail | null;" in project


def test_deep_write_types_each_ancestor():
    types = state_types_of({SavableCommentSerializer: [SAVE]}, anchor=ProjectWithCommentsSerializer)
    names = [section.split(" = ")[0].split()[-1] for section in types.sections]
    assert names == ["SampleChannelSavableComment", "SampleChannelTaskWithComments", "SampleChannelProjectWithComments"]
    assert "  comments: SampleChannelSavableComment[];" in types.sections[1]
    assert "  tasks: SampleChannelTaskWithComments[];" in types.sections[2]


def test_untouched_siblings_keep_interfaces():
    types = state_types_of({NoteSerializer: [SAVE]})
    project = types.sections[-1]
    assert "Omit<ProjectType, 'notes'>" in project
    assert "tasks" not in project


def test_field_named_like_method_fails():
    class SavingTagSerializer(serializers.ModelSerializer):
        save = serializers.CharField(source="name")

        class Meta:
            model = Tag
            fields = ["id", "save"]

    with pytest.raises(GenerationError, match="has a field named 'save'"):
        state_types_of({SavingTagSerializer: [SAVE]}, anchor=SavingTagSerializer)


def test_import_statement_fits_one_line():
    assert _import_statement(["A", "B"], "'./x'", type_only=True) == "import type { A, B } from './x';"


def test_import_statement_breaks_long_lines():
    names = [f"VeryLongInterfaceName{index}" for index in range(6)]
    rendered = _import_statement(names, "'./x'")
    assert rendered.startswith("import {\n  VeryLongInterfaceName0,\n")
    assert rendered.endswith("  VeryLongInterfaceName5,\n} from './x';")


def test_runtime_state_values_nullable():
    rendered = render_runtime_state(SampleChannel)
    assert "export interface SampleChannelRuntimeState {" in rendered
    assert "  viewers: number | null;" in rendered
    assert "  title: string | null;" in rendered


def test_no_runtime_state_without_typed_dict():
    assert render_runtime_state(ProjectListChannel) is None


# The generated files of the test app


@pytest.fixture
def generated(tmp_path):
    with override_settings(RX_ROUTING_MODULE="tests.rxapp.routing", RX_WEBSOCKET_URL="wss://example.test:8443/ws"):
        generation = generate(tmp_path)
    return {path.name: content for path, content in generation.files.items()}, generation.warnings


def test_test_app_files_generated(generated):
    files, warnings = generated
    assert "rxapp.interfaces.ts" in files
    assert "rxapp.channels.ts" in files
    assert not any("tests.rxapp" in warning for warning in warnings)


def test_test_app_header(generated):
    files, _ = generated
    for name in ("rxapp.interfaces.ts", "rxapp.channels.ts"):
        assert files[name].startswith("// This file is generated by `manage.py makefrontend`. Do not edit it")


def test_test_app_interfaces(generated):
    interfaces = generated[0]["rxapp.interfaces.ts"]
    assert "export interface ProjectType {" in interfaces
    assert "  budget: string;" in interfaces
    assert "  public_id: string;" in interfaces
    assert "  starts_at: string | null;" in interfaces
    assert "  metadata: unknown;" in interfaces
    assert "  owner: UserType;" in interfaces
    assert "  detail: ProjectDetailType | null;" in interfaces
    assert "  tasks: TaskType[];" in interfaces
    assert "export interface UserType {" in interfaces
    assert "  display_name: string;" in interfaces
    assert "export interface ProjectListType {" in interfaces
    assert "  tasks: TaskSummaryType[];" in interfaces


def test_test_app_channels(generated):
    channels = generated[0]["rxapp.channels.ts"]
    assert "import {\n  ContextChannel,\n  type ChannelModel,\n  type ChannelOptions,\n" in channels
    assert "} from '../rxdjango';" in channels
    assert "import type {\n  NotePayload,\n" in channels
    assert "} from './rxapp.interfaces';" in channels
    assert "export const WEBSOCKET_ORIGIN = 'wss://example.test:8443';" in channels
    assert "export interface ProjectChannelRuntimeState {" in channels
    assert "export class ProjectChannel extends ContextChannel<ProjectType, ProjectChannelRuntimeState> {" in channels
    assert "export class ProjectListChannel extends ContextChannel<ProjectListType> {" in channels
    assert "  constructor(kwargs: Record<string, never>, token: string, options?: ChannelOptions) {" in channels
    assert "    super(ProjectListChannel.model, 'ws/projects/', kwargs, token, options);" in channels
    assert "    many: true," in channels
    assert "  add(a: number, b: number): Promise<number> {" in channels
    assert "    return this.callAction<number>('add', [a, b]);" in channels
    assert "  set_viewers(count: number): Promise<void> {" in channels


def test_test_app_channels_sorted(generated):
    channels = generated[0]["rxapp.channels.ts"]
    positions = [
        channels.index(f"export class {name} ")
        for name in ("OptimizedProjectChannel", "ProjectChannel", "ProjectListChannel")
    ]
    assert positions == sorted(positions)


def test_generation_is_deterministic(tmp_path):
    with override_settings(RX_ROUTING_MODULE="tests.rxapp.routing"):
        first = generate(tmp_path).files
        second = generate(tmp_path).files
    assert first == second


def test_test_app_writable_channel(generated):
    channels = generated[0]["rxapp.channels.ts"]
    assert "export class WritableProjectChannel extends ContextChannel<WritableProjectChannelProject> {" in channels
    assert "export type WritableProjectChannelTask = TaskType & Savable<TaskPayload> & Deletable;" in channels
    assert "  tags: CreatableList<TagType, TagPayload>;" in channels
    assert "  tasks: CreatableList<WritableProjectChannelTask, TaskPayload>;" in channels
    assert "  notes: CreatableList<WritableProjectChannelNote, NotePayload>;" in channels
    assert f"      '{TASK_TYPE}': " in channels.split("optimisticTimeoutMs: {", 1)[1]


def test_test_app_writable_list_channel(generated):
    channels = generated[0]["rxapp.channels.ts"]
    line = "export class WritableProjectListChannel extends ContextChannel<WritableProjectListChannelProjectList> {"
    assert line in channels
    assert "  tasks: WritableProjectListChannelTaskSummary[];" in channels


def test_test_app_imports_every_used_name(generated):
    """Every interface that the channels file uses is imported, and nothing unused is."""
    channels = generated[0]["rxapp.channels.ts"]
    imports, body = channels.split("from './rxapp.interfaces';", 1)
    imported = {name.strip(" ,\n") for name in imports.rsplit("import type {", 1)[1].split(",")}
    imported.discard("")
    for name in imported:
        assert name in body, f"{name} is imported but not used"
    for name in ("TagType", "TaskType", "NoteType", "ProjectType", "TaskSummaryType", "ProjectListType"):
        assert name in imported
