from django.contrib import admin

from .models import Forum, Topic


@admin.register(Forum)
class ForumAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["title", "forum", "author", "created_at"]
    list_filter = ["forum"]
