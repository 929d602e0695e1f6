"""Player REST API of the missions app: one APIView per operation (session or token auth)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import authenticate
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from knox.models import AuthToken
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..api_schema import error_responses
from ..cache import player_current_missions
from ..errors import NotFound
from ..models import MissionState, PeriodType
from ..receivers import warm_player
from ..selectors import leaderboard, player_missions
from ..services import missions_assign_for_user
from ..services.timezones import player_timezone_set, player_timezone_state, schedule_for
from ..throttles import AuthTokenThrottle
from .representations import ExactNumberField, MissionSerializer, mission_fields


def _user_id(request: Request) -> int:
    return cast(int, request.user.pk)  # IsAuthenticated ran first: never anonymous here


class MissionListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        period = serializers.ChoiceField(choices=PeriodType.values, required=False)
        status = serializers.CharField(required=False)

        def validate_status(self, value: str) -> list[str]:
            states = [part.strip() for part in value.split(",") if part.strip()]
            unknown = [s for s in states if s not in MissionState.values]
            if not states or unknown:
                raise serializers.ValidationError(
                    f"must be one or more of {', '.join(MissionState.values)} "
                    f"(comma-separated), got {value!r}"
                )
            return states

    @extend_schema(
        operation_id="missions_list",
        summary="The caller's current missions",
        description=(
            "Missions of the current periods (plus completed ones still claimable in their "
            "grace time). Assigns the current periods lazily on first access."
        ),
        parameters=[
            OpenApiParameter("period", str, enum=PeriodType.values, description="Period type."),
            OpenApiParameter(
                "status",
                str,
                description="One or more of active, completed, claimed, expired, failed, "
                "comma-separated.",
            ),
        ],
        responses={200: MissionSerializer(many=True), **error_responses(400, 401)},
        tags=["missions"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        now = timezone.now()
        user_id = _user_id(request)
        missions_assign_for_user(user_id=user_id, now=now)
        missions = player_current_missions(
            user_id=user_id,
            now=now,
            period_type=filters.validated_data.get("period"),
            states=filters.validated_data.get("status"),
        )
        # Only a mission past its period needs the schedule for its countdown (one query).
        past = any(m.period_end is not None and m.period_end <= now for m in missions)
        schedule = schedule_for(user_id) if past else None
        data = [mission_fields(mission, now=now, schedule=schedule) for mission in missions]
        return Response(MissionSerializer(data, many=True).data)


class MissionDetailApi(APIView):
    @extend_schema(
        operation_id="missions_retrieve",
        summary="One of the caller's missions",
        description="Any mission of the caller, current or past. Another player's is a 404.",
        responses={200: MissionSerializer, **error_responses(401, 404)},
        tags=["missions"],
    )
    def get(self, request: Request, mission_id: int) -> Response:
        now = timezone.now()
        mission = (
            player_missions(user_id=_user_id(request), now=now, current_only=False)
            .filter(pk=mission_id)
            .first()
        )
        if mission is None:
            raise NotFound(f"No mission {mission_id} for this player.")
        return Response(MissionSerializer(mission_fields(mission, now=now)).data)


class TokenApi(APIView):
    """`POST /api/v1/auth/token` {username, password} → {token}."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthTokenThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(
            max_length=4096, trim_whitespace=False, style={"input_type": "password"}
        )

    @extend_schema_serializer(component_name="AuthToken")
    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(
        operation_id="auth_token_create",
        summary="Exchange a username and password for an API token",
        description=(
            "Send it as `Authorization: Token <key>`, or as `?token=` to the WebSocket. A new "
            "token each call; it expires after API_TOKEN_TTL_HOURS (default 30 days)."
        ),
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 413, 429)},
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Django's own request: django-axes marks a locked-out login on it, and its
        # middleware answers 429.
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to log in with provided credentials."]}
            )
        # A new token each time: only its hash is stored, so an old one cannot be shown again.
        AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
        _, token = AuthToken.objects.create(user=user)
        warm_player(user.pk)  # a token login warms the cache as a session login does
        return Response(self.OutputSerializer({"token": token}).data)


class LeaderboardEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    score = ExactNumberField()


class LeaderboardApi(APIView):
    @extend_schema_serializer(component_name="Leaderboard")
    class OutputSerializer(serializers.Serializer):
        template_key = serializers.CharField()
        name = serializers.CharField()
        period_start = serializers.DateTimeField()
        period_end = serializers.DateTimeField(allow_null=True)
        entries = LeaderboardEntrySerializer(many=True, help_text="The top `limit` players.")
        me = LeaderboardEntrySerializer(
            allow_null=True, help_text="The caller's entry; null while unranked."
        )
        around = LeaderboardEntrySerializer(
            many=True, help_text="The caller and up to two players above and below."
        )

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=10)

    @extend_schema(
        operation_id="leaderboards_retrieve",
        summary="The live ranking of a template's current period, with the caller's rank",
        parameters=[OpenApiParameter("limit", int, description="Size of the top (1–100).")],
        responses={200: OutputSerializer, **error_responses(400, 401, 404)},
        tags=["player"],
    )
    def get(self, request: Request, template_key: str) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        board = leaderboard(
            template_key=template_key,
            now=timezone.now(),
            limit=filters.validated_data["limit"],
            around_user_id=_user_id(request),
        )
        return Response(self.OutputSerializer(board).data)


@extend_schema_serializer(component_name="Timezone")
class TimezoneOutputSerializer(serializers.Serializer):
    timezone = serializers.CharField(help_text="The IANA zone the player chose.")
    current_timezone = serializers.CharField(
        help_text="The zone the current day runs in (the previous one until the change "
        "takes effect)."
    )
    takes_effect_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the chosen zone's periods begin (the end of the current day); "
        "null when they already have.",
    )
    day_start = serializers.DateTimeField(help_text="The current daily period's start.")
    day_end = serializers.DateTimeField(help_text="The current daily period's end.")


class TimezoneApi(APIView):
    """`GET/PUT /api/v1/me/timezone`: the caller's timezone (their days start at its
    local midnight; a change takes effect from the next day)."""

    @extend_schema_serializer(component_name="TimezoneInput")
    class InputSerializer(serializers.Serializer):
        timezone = serializers.CharField(
            max_length=64, help_text="An IANA name, e.g. 'Asia/Tokyo' or 'UTC'."
        )

    @extend_schema(
        operation_id="me_timezone_retrieve",
        summary="The caller's timezone",
        responses={200: TimezoneOutputSerializer, **error_responses(401)},
        tags=["player"],
    )
    def get(self, request: Request) -> Response:
        state = player_timezone_state(user_id=_user_id(request), now=timezone.now())
        return Response(TimezoneOutputSerializer(state).data)

    @extend_schema(
        operation_id="me_timezone_update",
        summary="Set the caller's timezone",
        description=(
            "Daily, weekly and monthly periods and streak days follow the zone's local "
            "midnight from the end of the current period on (the current day only grows "
            "until the new zone's next midnight; never two days in one). An unknown name is "
            "a 400 naming the field `timezone`."
        ),
        request=InputSerializer,
        responses={200: TimezoneOutputSerializer, **error_responses(400, 401)},
        tags=["player"],
    )
    def put(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        now = timezone.now()
        user_id = _user_id(request)
        player_timezone_set(user_id=user_id, timezone=body.validated_data["timezone"], now=now)
        state = player_timezone_state(user_id=user_id, now=now)
        return Response(TimezoneOutputSerializer(state).data)
