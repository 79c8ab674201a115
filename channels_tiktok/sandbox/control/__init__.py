"""The control surface: what a test or a person does to play the other side of TikTok.

Over HTTP: `POST /sandbox/control/<action>/` with a JSON object of the action's keyword arguments; the answer
is the action's JSON result (HTTP 200), or `{"error": "..."}` with HTTP 400. A form post (the `/sandbox/` page)
redirects back to the page. In Python use `SandboxControl(url)` or, in-process, `sandbox.control` (client.py).

Modules: `scenarios` (the user's side: write, tap a button, share, comment, read; a person answering
from the TikTok app), `world` (accounts, users, videos, tokens, clock, subscriptions, configuration,
injected failures, deliveries), `readback` (what the sandbox holds), `common` (lookups, `ControlError`),
`dispatch` (running an action by name, and the `/sandbox/` URLs). The action table is `routes.ACTIONS`.

`account` accepts a business_id or a username (`sbx-acct-mx-001`, `taqueria_sandbox`); `user` a
unique_identifier or a username (`sbx-user-lucia`, `lucia.mx`). Actions that emit a webhook deliver it
synchronously (`deliver="sync"`, default) and return `{"delivery": {"status", "http_status", ...}}`;
`deliver="async"` delivers in the background, `deliver="manual"` leaves it pending until `flush_deliveries`.
"""
