"""pytest fixtures around the TikTok sandbox (star-imported by tests/conftest.py).

- `sandbox_server` (session): one `SandboxServer` on a free port, playing the app of the test settings
  (TIKTOK_APP_ID / TIKTOK_APP_SECRET, TIKTOK_RATE_LIMIT_QPS), with short webhook retry backoffs.
- `sandbox`: the same server, reset to the seeded state before and after each test (cheap). Use
  `sandbox.url`, `sandbox.api_base_url`, `sandbox.authorize_url`, `sandbox.sandbox` (the `Sandbox`: `configure`,
  `state`, `flush_deliveries`), `sandbox.control` (in-process control, see channels_tiktok/sandbox/client.py) and
  `sandbox.http_control` (the same over HTTP).
- `sandbox_settings`: `sandbox`, plus the product's settings pointed at it (TIKTOK_API_BASE_URL,
  TIKTOK_AUTHORIZE_URL, TIKTOK_APP_ID, TIKTOK_APP_SECRET; the sandbox host allowed for image fetches).
- `sandbox_to_django`: `sandbox_settings`, plus webhooks delivered into the Django test client (`client`)
  at /webhooks/tiktok/, in the test's own thread and database transaction. Control calls through
  `sandbox.control` deliver at once; the echoes of API calls (send, comment reply) wait in `echo_mode=manual`
  until the test calls `sandbox.control.flush_deliveries()`.
- `sandbox_live`: `sandbox_settings` with webhooks subscribed to pytest-django's `live_server` over real HTTP
  (needs `transactional_db`; echoes are sent in the background as TikTok does).
- `webhook_receiver`: a recording HTTP receiver (`WebhookReceiver`) subscribed to the sandbox's webhooks.
- `call_api(sandbox, method, path, token=..., json=/params=/files=)`: a checked envelope from the API.
- `connected_account_tokens(sandbox, account=..., scopes=...)`: TikTok token data for a seeded account,
  without going through the consent page.

The seeded accounts and users are listed in channels_tiktok/sandbox/state.py.
"""

from urllib.parse import urlsplit

import pytest

from channels_tiktok.sandbox import Config, SandboxServer

WEBHOOK_PATH = "/webhooks/tiktok/"


@pytest.fixture(scope="session")
def sandbox_server():
    from django.conf import settings

    config = Config(
        app_id=settings.TIKTOK_APP_ID,
        app_secrets=tuple(settings.TIKTOK_APP_SECRET),
        rate_limit_qps=settings.TIKTOK_RATE_LIMIT_QPS,
        retry_backoff_seconds=0.05,
        delivery_timeout_seconds=5.0,
    )
    server = SandboxServer(config=config).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server):
    sandbox_server.sandbox.reset()
    yield sandbox_server
    sandbox_server.sandbox.reset()


@pytest.fixture
def sandbox_settings(sandbox, settings):
    config = sandbox.sandbox.config
    settings.TIKTOK_API_BASE_URL = sandbox.api_base_url
    settings.TIKTOK_AUTHORIZE_URL = sandbox.authorize_url
    settings.TIKTOK_APP_ID = config.app_id
    settings.TIKTOK_APP_SECRET = list(config.app_secrets)
    settings.IMAGE_FETCH_ALLOWED_HOSTS = [*settings.IMAGE_FETCH_ALLOWED_HOSTS, sandbox.host]
    return sandbox


def django_client_transport(client):
    """A webhook transport that POSTs into the Django test client (same thread, same transaction)."""

    def transport(url: str, body: bytes, headers: dict, timeout: float) -> int:
        extra = {name: value for name, value in headers.items() if name.lower() != "content-type"}
        response = client.generic("POST", urlsplit(url).path, body, content_type="application/json", headers=extra)
        return response.status_code

    return transport


@pytest.fixture
def sandbox_to_django(sandbox_settings, client):
    sandbox_settings.sandbox.deliverer.transport = django_client_transport(client)
    sandbox_settings.sandbox.configure(echo_mode="manual")
    sandbox_settings.control.subscribe(callback_url="http://testserver" + WEBHOOK_PATH)
    return sandbox_settings


@pytest.fixture
def sandbox_live(sandbox_settings, live_server):
    sandbox_settings.control.subscribe(callback_url=live_server.url + WEBHOOK_PATH)
    return sandbox_settings


def connected_account_tokens(sandbox, *, account: str = "sbx-acct-mx-001", scopes=None) -> dict:
    """TikTok's token data (open_id, access_token, refresh_token, scope, ...) for a seeded account."""
    return sandbox.control.issue_token(account=account, scopes=scopes)


def connect_account(
    sandbox, *, project, account: str = "sbx-acct-mx-001", username: str = "taqueria_sandbox", **fields
):
    """Our TikTokAccount for one of the sandbox's accounts, in `project`, connected with tokens the sandbox issued
    (so calls to TikTok go through)."""
    from tests.factories import TikTokAccountFactory

    tokens = connected_account_tokens(sandbox, account=account)
    return TikTokAccountFactory(
        channel__project=project,
        business_id=tokens["open_id"],
        username=username,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        scopes=tokens["scope"].split(","),
        **fields,
    )


class WebhookReceiver:
    """A tiny HTTP server standing in for our webhook endpoint: records every request, answers `statuses`
    in turn (then 200). `requests` holds dicts with `headers` (lower-cased names), `body` (raw bytes)."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{WEBHOOK_PATH}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def events(self) -> list[dict]:
        """The received envelopes, parsed, with `content` parsed a second time into `content_json`."""
        import json

        parsed = []
        for request in list(self.requests):
            envelope = json.loads(request["body"])
            parsed.append(envelope | {"content_json": json.loads(envelope["content"])})
        return parsed

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def webhook_receiver(sandbox):
    """A recording HTTP receiver subscribed to both webhook event types of the sandbox."""
    receiver = WebhookReceiver()
    sandbox.control.subscribe(callback_url=receiver.url)
    yield receiver
    receiver.stop()


def call_api(sandbox, method: str, path: str, *, token: str | None = None, **kwargs) -> dict:
    """Call the sandbox's Business API over HTTP like TikTok's clients do; returns the checked envelope."""
    import requests

    from channels_tiktok import constants

    headers = {constants.ACCESS_TOKEN_HEADER: token} if token else {}
    response = requests.request(method, sandbox.api_base_url + path, headers=headers, timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers[constants.LOG_ID_HEADER]
    envelope = response.json()
    assert set(envelope) == {"code", "message", "request_id", "data"}
    return envelope


__all__ = [
    "WEBHOOK_PATH",
    "WebhookReceiver",
    "call_api",
    "connected_account_tokens",
    "django_client_transport",
    "sandbox",
    "sandbox_live",
    "sandbox_server",
    "sandbox_settings",
    "sandbox_to_django",
    "webhook_receiver",
]
