"""Security headers (issue 8, defect 8): a Content-Security-Policy on every page, and
production settings that pass `manage.py check --deploy` (HSTS, SSL redirect)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.servers import ROOT


def _policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/", "/profile/", "/admin/", "/api/docs/"])
def test_every_page_has_a_strict_content_security_policy(path: str) -> None:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"]


@pytest.mark.django_db
def test_swagger_ui_inline_code_carries_the_nonce() -> None:
    client = Client()
    response = client.get("/api/docs/")
    nonces = [s for s in _policy(response)["script-src"] if s.startswith("'nonce-")]
    assert len(nonces) == 1
    nonce = nonces[0][len("'nonce-") : -1]
    body = response.content.decode()
    assert body.count(f'nonce="{nonce}"') == 2  # the inline <style> and <script>


@pytest.mark.django_db
def test_the_hub_pages_have_no_inline_style_or_script() -> None:
    client = Client()
    client.force_login(UserFactory())
    for path in ("/", "/profile/", "/history/", "/login/"):
        body = client.get(path).content.decode()
        assert " style=" not in body and "<style" not in body, path
        assert "<script>" not in body and "<script nonce" not in body, path


def test_production_settings_pass_the_deploy_check() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.django.production",
        "DJANGO_SECRET_KEY": "k3y-" + "x7Qz9#Lm2&Vw5@Rt8!Np4%Hs6^Bj1*Cd3(Fg0)Yk" * 2,
        "DJANGO_ALLOWED_HOSTS": "missions.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1/missions"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_production_redirects_plain_http_but_not_the_probes(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    settings.SECURE_HSTS_SECONDS = 3600
    client = Client()
    response = client.get("/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"
    secure = client.get("/login/", secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=3600")
