from django.contrib import admin

from board.models import Board, PrivateNote, Task


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    filter_horizontal = ["members"]
    inlines = [TaskInline]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "board", "status", "assignee", "locked"]
    list_filter = ["status", "locked", "board"]
    search_fields = ["title"]


@admin.register(PrivateNote)
class PrivateNoteAdmin(admin.ModelAdmin):
    list_display = ["board", "user", "updated_at"]
