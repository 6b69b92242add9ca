"""Model properties whose value depends on related rows.

A serializer field may read a plain model property, such as a count of open tasks. A change
to a related row changes that value without saving the model itself, so no signal of the
model fires. Declaring the relations the property reads lets rxdjango re-serialize the
model when one of those related rows changes:

    class Project(models.Model):
        @related_property("tasks")
        def open_task_count(self):
            return sum(1 for task in self.tasks.all() if not task.done)
"""


class RelatedProperty(property):
    """A read-only property that records the ORM lookups to the related models it reads."""

    def __init__(self, fget, relations):
        super().__init__(fget, doc=fget.__doc__)
        self.relations = tuple(relations)


def related_property(*relations):
    """Decorate a model method as a property that depends on the given relations.

    Each relation is an ORM lookup from the owning model to a related model, written as
    in `filter()`: a relation's query name, joined with `__` to go further, such as
    `"tasks"` or `"tasks__comments"`. A save, delete or many-to-many change of a row reached
    through any of them re-serializes the owning rows in every channel that shows the property.
    """
    if not relations:
        raise TypeError("related_property() needs at least one relation lookup, e.g. @related_property('tasks').")
    if callable(relations[0]):
        raise TypeError(
            "related_property must be called with the relation lookups it depends on: "
            f"write @related_property('tasks') above {relations[0].__name__}, not a bare @related_property."
        )
    for relation in relations:
        if not isinstance(relation, str) or not relation:
            raise TypeError(f"related_property() relation lookups must be non-empty strings, got {relation!r}.")

    def decorate(fget):
        return RelatedProperty(fget, relations)

    return decorate
