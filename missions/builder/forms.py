"""The template add/change form: the builder editors (django-jsonform) plus the raw JSON for
power users, both judged by the one validator, each error put on the field that caused it."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django_jsonform.forms.fields import JSONFormField

from ..catalog import action_catalog
from ..errors import TemplateInvalid
from ..json_limits import JsonLimitExceeded, LimitedJSONMixin, json_loads_limited
from ..models import MissionTemplate
from ..validation import TEMPLATE_FIELDS, validate_template
from . import schemas
from .convert import editor_coords, from_builder, to_builder

TEMPLATE_JSON_FIELDS = ("requirements", "rewards", "prerequisites", "metadata")
TEMPLATE_FORM_FIELDS = (
    "key",
    "name",
    "description",
    "category",
    "type",
    "period_type",
    "weight",
    "min_level",
    "max_level",
    "cooldown_hours",
    "starts_at",
    "ends_at",
    "is_active",
)
# The order of the template JSON in SPEC.md, for the raw JSON view.
JSON_ORDER = TEMPLATE_FIELDS


def template_as_json(template: MissionTemplate) -> dict[str, Any]:
    """A stored template as the template JSON of SPEC.md (what load_templates reads)."""
    out: dict[str, Any] = {}
    for name in JSON_ORDER:
        value = getattr(template, name)
        if name in ("starts_at", "ends_at"):
            if value is None:
                continue
            value = value.isoformat()
        out[name] = value
    return out


class BuilderField(LimitedJSONMixin, JSONFormField):
    """A django-jsonform editor whose value is judged by validate_template only (the form's
    clean), not by a second, schema-based validator."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # wrapped in <div id="builder-<name>"> so the type switch can swap the editor
        self.widget.template_name = "missions/builder/editor.html"

    def to_python(self, value: Any) -> Any:
        # The JSON limits of every input (depth, size) before the editor's own parse: a
        # deeply nested value must be a form error, not a RecursionError.
        if isinstance(value, str) and value not in self.empty_values:
            try:
                json_loads_limited(value, max_bytes=settings.API_MAX_BODY_BYTES, what="this JSON")
            except JsonLimitExceeded as exc:
                raise forms.ValidationError(str(exc), code="json_limit") from None
            except ValueError:
                pass  # the editor's own parse reports invalid JSON
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        if isinstance(data, str):
            try:
                json_loads_limited(data, max_bytes=settings.API_MAX_BODY_BYTES)
            except JsonLimitExceeded:
                return initial  # shown as stored, the error says why
            except ValueError:
                pass
        return super().bound_data(data, initial)

    def validate(self, value: Any) -> None:
        return None

    def run_validators(self, value: Any) -> None:
        return None


def parse_raw_json(text: str) -> Any:
    """The raw template JSON within the JSON limits; broken JSON names its line and column."""
    try:
        return json_loads_limited(
            text, max_bytes=settings.API_MAX_BODY_BYTES, what="the template JSON"
        )
    except JsonLimitExceeded as exc:
        raise forms.ValidationError(str(exc), code="json_limit") from None
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(
            f"line {exc.lineno}, column {exc.colno}: {exc.msg}", code="json"
        ) from None
    except ValueError as exc:  # NaN / Infinity
        raise forms.ValidationError(str(exc), code="json") from None


class MissionTemplateForm(forms.ModelForm):
    requirements = BuilderField(schema={"type": "array", "items": {"type": "object"}})
    rewards = BuilderField(schema={"type": "object"})
    prerequisites = BuilderField(schema={"type": "object"})
    metadata = BuilderField(schema={"type": "object"})
    use_raw_json = forms.BooleanField(
        required=False,
        label="Use the raw JSON",
        help_text="Save the JSON below instead of the builder's fields (for power users).",
    )
    raw_json = forms.CharField(
        required=False,
        label="Raw template JSON",
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField mono"}),
        help_text="The template as load_templates reads it (SPEC.md); a new page load shows "
        "the saved template.",
    )

    class Meta:
        model = MissionTemplate
        fields = [*TEMPLATE_FORM_FIELDS, *TEMPLATE_JSON_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The validator says what is missing, field by field, in its own words.
        for name in TEMPLATE_FORM_FIELDS:
            if name in self.fields:
                self.fields[name].required = False
        self.catalog = action_catalog()
        self.draft: dict[str, Any] = {}
        self.valid: dict[str, Any] | None = None  # validate_template's output once clean
        stored = template_as_json(self.instance) if self.instance.pk else {}
        builder = to_builder(stored) if stored else to_builder({"requirements": {}})
        if not self.instance.pk:
            builder["requirements"] = [
                {"key": "", "action": "", "label": "", "target": "1", "field": "", "unit": "day",
                 "where": []}
            ]  # fmt: skip
        for name in TEMPLATE_JSON_FIELDS:
            self.initial[name] = builder[name]
        if stored:
            self.initial["raw_json"] = json.dumps(stored, indent=2, ensure_ascii=False)
        mission_type = self.mission_type()
        self.set_schemas(mission_type, stored)

    def mission_type(self) -> str | None:
        if self.is_bound:
            return self.data.get(self.add_prefix("type")) or None
        return self.instance.type or self.initial.get("type") or None

    def set_schemas(self, mission_type: str | None, stored: dict[str, Any]) -> None:
        widgets = {
            "requirements": schemas.requirements_schema(mission_type, self.catalog),
            "rewards": schemas.rewards_schema(stored.get("rewards")),
            "prerequisites": schemas.prerequisites_schema(stored.get("prerequisites")),
            "metadata": schemas.metadata_schema(mission_type, stored.get("metadata")),
        }
        for name, schema in widgets.items():
            self.fields[name].widget.schema = schema

    def _builder_values(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        return {name: cleaned.get(name) for name in TEMPLATE_JSON_FIELDS}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        raw_mode = bool(cleaned.get("use_raw_json"))
        problems: dict[str, list[str]] = {}
        builder = self._builder_values(cleaned)
        if raw_mode:
            try:
                data = parse_raw_json(cleaned.get("raw_json") or "")
            except forms.ValidationError as exc:
                self.add_error("raw_json", exc)
                return cleaned
            if isinstance(data, dict) and self.instance.pk and "key" not in data:
                data = {**data, "key": self.instance.key}
        else:
            data = {
                name: cleaned.get(name)
                for name in TEMPLATE_FORM_FIELDS
                if cleaned.get(name) not in (None, "")
            }
            data.setdefault("is_active", bool(cleaned.get("is_active")))
            parts, problems = from_builder(
                mission_type=cleaned.get("type"),
                catalog=self.catalog,
                kept_metadata=self.instance.metadata if self.instance.pk else None,
                **builder,
            )
            data.update(parts)
        self.draft = data if isinstance(data, dict) else {}
        errors: dict[str, list[str]] = dict(problems)
        valid: dict[str, Any] | None = None
        try:
            valid = validate_template(data, catalog=self.catalog)
        except TemplateInvalid as exc:
            for path, messages in exc.errors.items():
                errors.setdefault(path, []).extend(messages)
        if errors:
            self._put_errors(errors, raw_mode=raw_mode, builder=builder)
            return cleaned
        assert valid is not None
        self.valid = valid
        for name, value in valid.items():
            cleaned[name] = value
        return cleaned

    def _put_errors(
        self, errors: dict[str, list[str]], *, raw_mode: bool, builder: dict[str, Any]
    ) -> None:
        for path, messages in errors.items():
            head = path.split(".")[0]
            for message in messages:
                if raw_mode:
                    self.add_error("raw_json", f"{path}: {message}")
                    continue
                if head in TEMPLATE_JSON_FIELDS:
                    coords = editor_coords(path, builder)
                    if coords is not None:
                        editor = self.fields[head]
                        assert isinstance(editor, BuilderField)
                        editor.add_error({coords[1]: message})
                    self.add_error(head, f"{path}: {message}" if path != head else message)
                elif head in self.fields:
                    self.add_error(head, message)
                else:
                    self.add_error(None, f"{path}: {message}")


# What changes a template's emission: publishing a change to these asks the budget again.
EMISSION_FIELDS = {
    *("is_active", "type", "period_type", "requirements", "rewards", "metadata"),
    *("min_level", "max_level", "starts_at", "ends_at", "use_raw_json", "raw_json"),
}


class MissionTemplateAdminForm(MissionTemplateForm):
    """The builder on the admin's change page: before a template goes live (activated, or an
    active one's requirements or rewards changed), its 14-day backtest is checked against the
    daily emission budgets; over a budget, saving needs "publish over budget" ticked."""

    publish_over_budget = forms.BooleanField(
        required=False,
        label="Publish over the emission budget",
        help_text="Asked only when this template's 14-day backtest plus today's emission "
        "exceeds a daily XP or DGT budget (ECONOMY_DAILY_XP_BUDGET, ECONOMY_DAILY_DGT_BUDGET).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget_warnings: list[str] = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.valid is None or not cleaned.get("is_active"):
            return cleaned
        was_active = bool(self.instance.pk and self.instance.is_active)
        if was_active and not EMISSION_FIELDS & set(self.changed_data):
            return cleaned
        from analytics.economy import template_budget_warnings

        self.budget_warnings = template_budget_warnings(template=self.valid, now=timezone.now())
        if self.budget_warnings and not cleaned.get("publish_over_budget"):
            for warning in self.budget_warnings:
                self.add_error("is_active", f"Over budget — {warning}.")
            self.add_error(
                "publish_over_budget",
                "Tick this to publish it anyway, or lower the rewards or make it harder.",
            )
        return cleaned
