"""ContextChannel classes are checked when they are defined."""

import pytest

from rxdjango.actions import action
from rxdjango.channels import ContextChannel, get_registered_channels
from rxdjango.exceptions import ChannelConfigError
from rxdjango.operations import CREATE, DELETE, SAVE
from tests.rxapp.channels import OptimizedProjectChannel, ProjectChannel, ProjectListChannel
from tests.rxapp.serializers import ProjectSerializer, TagSerializer, TaskSerializer, UserSerializer


def define(name, meta, **attrs):
    return type(name, (ContextChannel,), {"Meta": meta, "__module__": __name__, **attrs})


def test_missing_meta_rejected():
    with pytest.raises(ChannelConfigError, match=r"NoMeta has no Meta: declare `class Meta: state ="):
        type("NoMeta", (ContextChannel,), {"__module__": __name__})


def test_state_must_be_serializer_instance():
    class Meta:
        state = ProjectSerializer

    with pytest.raises(ChannelConfigError, match=r"ClassState\.Meta\.state must be a ModelSerializer instance"):
        define("ClassState", Meta)


def test_unknown_meta_option_rejected():
    class Meta:
        state = ProjectSerializer()
        writeable = {}

    with pytest.raises(ChannelConfigError, match=r"Typo\.Meta has unknown option\(s\) writeable"):
        define("Typo", Meta)


def test_auto_update_needs_list_channel():
    class Meta:
        state = ProjectSerializer()
        auto_update = True

    with pytest.raises(ChannelConfigError, match=r"Single\.Meta\.auto_update is only for list channels"):
        define("Single", Meta)


def test_writable_serializer_must_be_in_state():
    class Meta:
        state = ProjectSerializer()
        writable = {UserSerializer: [SAVE], TaskSerializer: [SAVE]}

    define("UsersWritable", Meta)

    class Other:
        state = ProjectSerializer()
        writable = {int: [SAVE]}

    with pytest.raises(ChannelConfigError, match=r"Outside\.Meta\.writable names .*not a serializer in this"):
        define("Outside", Other)


def test_writable_operations_checked():
    class Meta:
        state = ProjectSerializer()
        writable = {TaskSerializer: ["upsert"]}

    with pytest.raises(ChannelConfigError, match=r"BadOperation\.Meta\.writable\[TaskSerializer\] must be"):
        define("BadOperation", Meta)


def test_writable_maps_instance_types():
    class Meta:
        state = ProjectSerializer()
        writable = {TaskSerializer: [SAVE, CREATE, DELETE], TagSerializer: [CREATE]}

    channel_class = define("Writable", Meta)

    assert channel_class.writable == {
        "tests.rxapp.serializers.TaskSerializer": frozenset({SAVE, CREATE, DELETE}),
        "tests.rxapp.serializers.TagSerializer": frozenset({CREATE}),
    }


def test_cache_ttl_must_be_positive():
    class Meta:
        state = ProjectSerializer()
        cache_ttl = -5

    with pytest.raises(ChannelConfigError, match=r"NegativeTtl\.Meta\.cache_ttl must be a positive number"):
        define("NegativeTtl", Meta)


def test_sync_action_rejected():
    with pytest.raises(TypeError, match=r"declare .*sync_action with `async def`"):

        @action
        def sync_action(self):
            return 1


def test_runtime_state_must_be_typed_dict():
    class Meta:
        state = ProjectSerializer()

    class RuntimeState:
        viewers = 0

    with pytest.raises(ChannelConfigError, match=r"BadRuntime\.RuntimeState must be a typing\.TypedDict"):
        define("BadRuntime", Meta, RuntimeState=RuntimeState)


def test_channels_discovered_and_registered():
    registered = get_registered_channels()

    assert {ProjectChannel, ProjectListChannel, OptimizedProjectChannel} <= registered


def test_list_channel_flag():
    assert ProjectListChannel._meta.many is True
    assert ProjectChannel._meta.many is False


def test_actions_collected():
    assert set(ProjectChannel.actions) == {"add", "explode", "set_viewers", "whoami", "not_serializable"}


def test_cache_ttl_order(settings):
    settings.RX_CACHE_TTL = 120

    assert OptimizedProjectChannel.get_cache_ttl() == 3600
    assert ProjectChannel.get_cache_ttl() == 120


def test_cache_ttl_default_one_week(settings):
    del settings.RX_CACHE_TTL

    assert ProjectChannel.get_cache_ttl() == 7 * 24 * 60 * 60


def test_default_hooks():
    channel = ProjectChannel(consumer=None, user=None, kwargs={"project_id": 5})

    assert channel.get_instance_id(project_id=5) == 5
    assert channel.can_save(object(), {}) is False
    assert channel.can_create(object, object(), {}) is False
    assert channel.can_delete(object()) is False
    assert channel.runtime_state == {"viewers": None, "last_event": None}


def test_base_has_permission_true():
    assert ContextChannel.has_permission(None, anything=1) is True
