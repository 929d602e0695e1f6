from django.contrib import admin

from .models import Streak


@admin.register(Streak)
class StreakAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "current", "best", "last_completed")
    list_filter = ("kind",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
