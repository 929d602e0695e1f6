"""Player REST API of the streaks app: the caller's daily and weekly streaks."""

from __future__ import annotations

from typing import cast

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from missions.api_schema import error_responses

from .selectors import player_streaks


def _user_id(request: Request) -> int:
    return cast(int, request.user.pk)  # IsAuthenticated ran first: never anonymous here


class StreakSerializer(serializers.Serializer):
    current = serializers.IntegerField()
    alive = serializers.BooleanField(help_text="Can still continue today.")
    best = serializers.IntegerField()
    last_completed = serializers.DateField(allow_null=True)
    multiplier = serializers.CharField(help_text="Reward multiplier now (decimal string).")
    freezes_available = serializers.IntegerField()
    recent_breaks = serializers.ListField(child=serializers.DictField())


class StreaksApi(APIView):
    @extend_schema_serializer(component_name="Streaks")
    class OutputSerializer(serializers.Serializer):
        daily = StreakSerializer()
        weekly = StreakSerializer()

    @extend_schema(
        operation_id="streaks_retrieve",
        summary="The caller's daily and weekly streaks",
        responses={200: OutputSerializer, **error_responses(401)},
        tags=["player"],
    )
    def get(self, request: Request) -> Response:
        streaks = player_streaks(user_id=_user_id(request), now=timezone.now())
        return Response(self.OutputSerializer(streaks).data)
