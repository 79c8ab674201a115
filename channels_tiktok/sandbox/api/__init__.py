"""The Business API endpoints (§4), each enforcing TikTok's rules on its own side (§6), so the sandbox catches
the product's mistakes instead of repeating them.

Every handler takes `(sandbox, request)` and returns TikTok's envelope or raises `ApiError`. State is changed
under the lock; webhooks are emitted after it is released (a receiver that calls back into the sandbox while
handling the webhook must not deadlock). Which path each handler answers is in `routes.API_ROUTES`.

Modules: `common` (parameter parsing, token and scope checks), `accounts` (profile, webhook subscriptions),
`messages` (send and the 48-hour window), `media` (upload, download), `conversations` (capabilities,
conversation and content lists), `videos` (videos, comments, comment replies).
"""
