"""Player REST API of the missions app: one APIView per operation (session or token auth)."""

from __future__ import annotations

from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rewards.services import mission_claim

from .api_schema import error_responses
from .cache import player_current_missions
from .errors import NotFound
from .models import MissionState, PeriodType
from .player_selectors import missions_by_ids
from .receivers import warm_player
from .representations import (
    BalancesSerializer,
    BonusSerializer,
    MissionSerializer,
    RewardsSerializer,
    mission_fields,
)
from .selectors import player_missions
from .services import missions_assign_for_user


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
        data = [mission_fields(mission, now=now) for mission in missions]
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


class TokenApi(ObtainAuthToken):
    """`POST /api/v1/auth/token` {username, password} → {token} (DRF token auth)."""

    @extend_schema_serializer(component_name="AuthToken")
    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(
        operation_id="auth_token_create",
        summary="Exchange a username and password for an API token",
        description="Send it as `Authorization: Token <key>`, or as `?token=` to the WebSocket.",
        request=AuthTokenSerializer,
        responses={200: OutputSerializer, **error_responses(400)},
        tags=["auth"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().post(request, *args, **kwargs)
        token = Token.objects.filter(key=response.data.get("token")).first()
        if token is not None:
            warm_player(token.user_id)  # a token login warms the cache as a session login does
        return response


class MissionClaimApi(APIView):
    @extend_schema_serializer(component_name="ClaimResult")
    class OutputSerializer(serializers.Serializer):
        mission_id = serializers.IntegerField()
        source = serializers.CharField(  # type: ignore[assignment]  # the body's key
            help_text="`claim` here (`auto_grant` in history)."
        )
        base_rewards = RewardsSerializer(help_text="The template's rewards.")
        bonuses = BonusSerializer(
            many=True, help_text="Each bonus applied: speed, streak, perfect."
        )
        granted = RewardsSerializer(help_text="What was granted: base rewards × bonuses.")
        balances = BalancesSerializer(help_text="The caller's balances after the claim.")
        level = serializers.IntegerField()
        next_level_xp = serializers.IntegerField(allow_null=True)
        meta_badges = serializers.ListField(
            child=serializers.CharField(), help_text="Badges this claim unlocked on the way."
        )
        mission = MissionSerializer(help_text="The mission, now claimed.")

    @extend_schema(
        operation_id="missions_claim",
        summary="Claim a completed mission's rewards (exactly once)",
        description=(
            "Grants the rewards and every bonus in one transaction, once whatever the "
            "concurrency. Browsers (session auth) must send the CSRF token as `X-CSRFToken`."
        ),
        request=None,
        responses={200: OutputSerializer, **error_responses(401, 403, 404, 409)},
        tags=["missions"],
    )
    def post(self, request: Request, mission_id: int) -> Response:
        now = timezone.now()
        user_id = _user_id(request)
        result = mission_claim(mission_id=mission_id, user_id=user_id, now=now)
        mission = missions_by_ids([mission_id]).get()
        data = {**result.as_dict(), "mission": mission_fields(mission, now=now)}
        return Response(self.OutputSerializer(data).data)
