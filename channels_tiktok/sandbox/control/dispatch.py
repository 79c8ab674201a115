"""Running a control action by name (Python and HTTP), and the `/sandbox/` URLs: the page, the state as JSON,
sample images, media, static files and `POST /sandbox/control/<action>/`.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from channels_tiktok.sandbox import pages
from channels_tiktok.sandbox.api.media import media_file
from channels_tiktok.sandbox.control.common import SAMPLES, ControlError
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.routes import ACTIONS
from channels_tiktok.sandbox.wire import BadRequestError, Request, Response


def run(sandbox: SandboxCore, action: str, arguments: dict) -> dict:
    """Run one action with keyword arguments; `ControlError` for anything the caller got wrong."""
    if action not in ACTIONS:
        raise ControlError(f"Unknown action: {action!r}")
    try:
        return ACTIONS[action](sandbox, **arguments)
    except TypeError as exc:
        raise ControlError(f"{action}: {exc}") from exc


def dispatch(sandbox: SandboxCore, request: Request, path: str) -> Response:
    if path == "":
        return pages.control_page(sandbox, request)
    if path == "state/":
        return Response.json(sandbox.state.snapshot())
    parts = path.split("/")
    if len(parts) == 2 and parts[0] == "samples" and parts[1] in SAMPLES:
        content, content_type = SAMPLES[parts[1]]
        return Response(body=content, content_type=content_type)
    if len(parts) == 3 and parts[0] == "media" and parts[2] == "":
        return media_file(sandbox, request, parts[1])
    if len(parts) == 3 and parts[0] == "preview" and parts[2] == "":
        return pages.media_preview(sandbox, parts[1])
    if len(parts) == 2 and parts[0] == "static":
        return pages.static_file(parts[1])
    if len(parts) == 3 and parts[0] == "control" and parts[2] == "":
        if request.method != "POST":
            return Response.text("405 method not allowed", status=405)
        return _control(sandbox, request, parts[1])
    return Response.text("404 page not found", status=404)


def _control(sandbox: SandboxCore, request: Request, action: str) -> Response:
    # The page's forms post url-encoded fields; anything else (also `curl -d '{...}'`) is a JSON object.
    from_form = request.content_type == "application/x-www-form-urlencoded" and not request.body.startswith(b"{")
    if from_form:
        arguments = {key: values[-1] for key, values in request.form().items() if values[-1] != ""}
    else:
        try:
            arguments = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise BadRequestError("The body must be a JSON object.") from exc
        if not isinstance(arguments, dict):
            raise BadRequestError("The body must be a JSON object.")
    try:
        result = run(sandbox, action, arguments)
    except ControlError as error:
        if from_form:
            return Response.redirect("/sandbox/?flash=" + quote(f"{action}: {error}"))
        return Response.json({"error": str(error), "code": error.code}, status=400)
    if from_form:
        summary = result.get("delivery", {}).get("status", "done") if isinstance(result, dict) else "done"
        return Response.redirect("/sandbox/?flash=" + quote(f"{action}: {summary}"))
    return Response.json(result)
