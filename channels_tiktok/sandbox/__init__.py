"""The TikTok sandbox (B1): a local stand-in for TikTok's Business API, OAuth consent page and webhooks.

It speaks TikTok's wire format (docs/tiktok-api.md) and enforces TikTok's rules on its own side, from
the shared facts in `channels_tiktok.constants` (the only product module it imports). The product never
imports it outside tests and the demo wiring.

    from channels_tiktok.sandbox import SandboxServer
    server = SandboxServer(port=0).start()        # server.url, .api_base_url, .authorize_url
    server.control.user_writes(text="Hola")       # act as a TikTok user (in-process)
    server.stop()

Modules: `app` (WSGI app, routing, rate limit, failure injection), `state` (the in-memory world and seed),
`oauth` (consent page, tokens), `api` (Business API endpoints), `events` (webhook contents), `webhooks`
(signing and delivery), `control` (the control surface), `client` (its Python clients), `server` (HTTP).
"""

from channels_tiktok.sandbox.app import Sandbox
from channels_tiktok.sandbox.client import LocalControl, SandboxControl, SandboxControlError
from channels_tiktok.sandbox.server import SandboxServer
from channels_tiktok.sandbox.state import Config

__all__ = ["Config", "LocalControl", "Sandbox", "SandboxControl", "SandboxControlError", "SandboxServer"]
