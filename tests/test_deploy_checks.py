"""`manage.py check --deploy` with the production settings refuses the secrets committed to the repository."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks

from scripts.stack import LOOPBACK_FERNET_KEY, SANDBOX_APP_SECRET

DEPLOY_IDS = {"clients.E002", "channels_tiktok.E002"}


def check_deploy(**overrides: str) -> subprocess.CompletedProcess:
    """The deploy check as CI runs it: production settings, generated secrets unless overridden."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))
    } | {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "deploy-check-" + "s" * 50,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "TIKTOK_APP_ID": "deploy-check",
        "TIKTOK_APP_SECRET": "a-secret-of-our-own",
        "DJANGO_ALLOWED_HOSTS": "example.com",
        **overrides,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_passes_with_secrets_of_our_own():
    completed = check_deploy()
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_deploy_check_fails_with_the_development_key_and_the_sandbox_secret():
    # What the loopback stack runs with: fine on loopback, an error in a deployment.
    completed = check_deploy(
        FIELD_ENCRYPTION_KEYS=f"{Fernet.generate_key().decode()},{LOOPBACK_FERNET_KEY}",
        TIKTOK_APP_SECRET=f"a-secret-of-our-own,{SANDBOX_APP_SECRET}",
    )
    assert completed.returncode != 0
    for check_id in DEPLOY_IDS:
        assert check_id in completed.stderr, completed.stderr
    # The keys themselves are never printed.
    assert LOOPBACK_FERNET_KEY not in completed.stdout + completed.stderr
    assert SANDBOX_APP_SECRET not in completed.stdout + completed.stderr


def test_the_defaults_are_public_and_caught(settings):
    # The test settings carry the same public defaults: the deploy checks see them, the ordinary checks do not.
    found = {m.id for m in checks.run_checks(include_deployment_checks=True)}
    assert found >= DEPLOY_IDS
    assert not DEPLOY_IDS & {m.id for m in checks.run_checks()}
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.TIKTOK_APP_SECRET = ["a-secret-of-our-own"]
    assert not DEPLOY_IDS & {m.id for m in checks.run_checks(include_deployment_checks=True)}


@pytest.mark.parametrize("secret", ["sandbox-secret", "test-secret"])
def test_each_public_app_secret_is_refused(settings, secret):
    settings.TIKTOK_APP_SECRET = [secret]
    assert "channels_tiktok.E002" in {m.id for m in checks.run_checks(include_deployment_checks=True)}
