"""The TikTok sandbox (B1): a local stand-in for TikTok's Business API, OAuth consent page and webhooks.

It speaks TikTok's wire format (docs/tiktok-api.md) and enforces TikTok's rules on its own side, from
the shared facts in `channels_tiktok.constants` (the only product module it imports). The product never
imports it outside tests and the demo wiring.

    from channels_tiktok.sandbox import SandboxServer
    server = SandboxServer(port=0).start()        # server.url, .api_base_url, .authorize_url
    server.control.user_writes(text="Hola")       # act as a TikTok user (in-process)
    server.stop()

Modules (imports run one way, from the WSGI app down to the state):
    app        `Sandbox`: the WSGI app (routing, envelope, rate limit and faults applied to API calls)
    routes     every dispatch table: API path -> handler, control action name -> function
    core       `SandboxCore`: configuration, state, webhook deliverer, rate limit, faults (what handlers take)
    state      the in-memory world and its seed;  faults  failure injection;  wire  request/response plumbing
    oauth      the token endpoints;  consent  the consent page
    api/       the Business API endpoints (accounts, messages, media, conversations, videos)
    events     webhook contents;  webhooks  signing and delivery
    control/   the control surface: scenarios (the user's side), world (set-up), readback, dispatch (by name, HTTP)
    pages, phone, templates/, static/   the HTML pages (consent, /sandbox/ with its phone view) and their files
    client     the Python clients of the control surface;  server  HTTP
"""

from channels_tiktok.sandbox.app import Sandbox
from channels_tiktok.sandbox.client import LocalControl, SandboxControl, SandboxControlError
from channels_tiktok.sandbox.config import Config
from channels_tiktok.sandbox.server import SandboxServer

__all__ = ["Config", "LocalControl", "Sandbox", "SandboxControl", "SandboxControlError", "SandboxServer"]
