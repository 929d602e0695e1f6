from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from missions.errors import DomainError

from .models import Streak, StreakBreak, StreakFreezeUse, StreakRestore
from .services import streak_restore


class RestoreForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class BreakInline(admin.TabularInline):
    model = StreakBreak
    extra = 0
    can_delete = False
    readonly_fields = ("missed_from", "length", "created_at", "restored_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FreezeInline(admin.TabularInline):
    model = StreakFreezeUse
    extra = 0
    can_delete = False
    readonly_fields = ("covered_day", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RestoreInline(admin.TabularInline):
    model = StreakRestore
    fk_name = "streak"
    extra = 0
    can_delete = False
    readonly_fields = ("previous_current", "new_current", "reason", "restored_by", "created_at")
    exclude = ("restored_break",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Streak)
class StreakAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "current", "best", "last_completed")
    list_filter = ("kind",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
    readonly_fields = ("current", "best", "last_completed")
    inlines = (BreakInline, FreezeInline, RestoreInline)
    actions = ("restore_streaks",)

    @admin.action(description="Restore broken streak (with a reason)")
    def restore_streaks(
        self, request: HttpRequest, queryset: QuerySet[Streak]
    ) -> HttpResponse | None:
        form = RestoreForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            restored = 0
            for streak in queryset:
                try:
                    streak_restore(
                        streak_id=streak.pk,
                        reason=form.cleaned_data["reason"],
                        by_user_id=request.user.pk,
                    )
                    restored += 1
                except DomainError as exc:
                    self.message_user(request, f"{streak}: {exc.message}", messages.WARNING)
            self.message_user(request, f"{restored} streak(s) restored.", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/streaks/restore.html",
            {
                **self.admin_site.each_context(request),
                "title": "Restore broken streaks",
                "streaks": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(StreakRestore)
class StreakRestoreAdmin(admin.ModelAdmin):
    list_display = ("created_at", "streak", "previous_current", "new_current", "restored_by")
    readonly_fields = [f.name for f in StreakRestore._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
