"""Media: image upload (by magic bytes, 3 MB), the download URL of a user's image, and that URL itself."""

from __future__ import annotations

from channels_tiktok import constants
from channels_tiktok.sandbox.api.common import _conversation, _invalid, _messaging
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.oauth import valid_grant
from channels_tiktok.sandbox.wire import ApiError, Request, Response, envelope

JPEG_MAGIC = b"\xff\xd8\xff"


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def media_upload(sandbox: SandboxCore, request: Request) -> Response:
    if request.content_type != "multipart/form-data":
        raise _invalid("The request must be multipart/form-data.")
    fields = request.multipart()
    business_id = fields.get("business_id", (None, b""))[1].decode()
    media_type = fields.get("media_type", (None, b""))[1].decode()
    with sandbox.state.lock:
        account = _messaging(sandbox, request, business_id=business_id, scope=constants.SCOPE_MESSAGE_SEND)
        if media_type != constants.MEDIA_TYPE_IMAGE:
            raise _invalid(f"media_type must be {constants.MEDIA_TYPE_IMAGE}.")
        if "file" not in fields:
            raise _invalid("file is required.")
        content = fields["file"][1]
        if len(content) > constants.MAX_IMAGE_BYTES:
            raise ApiError(constants.CODE_FILE_TOO_LARGE, "The file is larger than 3 MB.")
        content_type = image_type(content)
        if content_type is None:
            raise ApiError(constants.CODE_UNSUPPORTED_FILE_TYPE, "Only JPG and PNG images are supported.")
        media = sandbox.add_media(account.business_id, content, content_type)
    return envelope({"media_id": media.media_id})


def image_type(content: bytes) -> str | None:
    """The MIME type by magic bytes (not by file name or declared type), or None if not JPG/PNG."""
    if content.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if content.startswith(PNG_MAGIC):
        return "image/png"
    return None


def media_download(sandbox: SandboxCore, request: Request) -> Response:
    body = request.json()
    with sandbox.state.lock:
        account = _messaging(sandbox, request, business_id=body.get("business_id"), scope=constants.SCOPE_MESSAGE_READ)
        conversation = _conversation(sandbox, account, body.get("conversation_id"))
        types = {media_type: kind for kind, media_type in constants.MEDIA_MESSAGE_TYPES.items()}
        if body.get("media_type") not in types:
            raise _invalid(f"media_type must be one of {', '.join(types)}.")
        message = next((m for m in conversation.messages if m.message_id == str(body.get("message_id"))), None)
        if message is None or message.type != types[body["media_type"]]:
            raise ApiError(constants.CODE_NOT_FOUND, "The message does not exist or holds no media of that type.")
        if message.body.get("media_id") != body.get("media_id"):
            raise ApiError(constants.CODE_NOT_FOUND, "The media does not belong to this message.")
        issued = sandbox.state.clock.now_ms()
    url = f"{request_base_url(request)}/sandbox/media/{message.body['media_id']}/?issued={issued}"
    return envelope({"download_url": url})


def request_base_url(request: Request) -> str:
    host = request.headers.get("host") or f"{request.environ.get('SERVER_NAME')}:{request.environ.get('SERVER_PORT')}"
    return f"http://{host}"


def media_file(sandbox: SandboxCore, request: Request, media_id: str) -> Response:
    """The download URL: needs `x-user: <access token>` of the media's account, like TikTok's."""
    with sandbox.state.lock:
        media = sandbox.state.media.get(media_id)
        token = request.headers.get(constants.MEDIA_DOWNLOAD_USER_HEADER, "")
        try:
            grant = valid_grant(sandbox, token)
        except ApiError:
            grant = None
        if media is None:
            return Response.text("not found", status=404)
        if grant is None or grant.business_id != media.business_id:
            return Response.text("forbidden: x-user must carry the account's access token", status=403)
        # A download URL is valid 24 hours after media/download gave it (or until expire_media_urls).
        issued = request.query.get("issued", "")
        issued_ms = int(issued) if issued.isdigit() else None
        valid_ms = constants.MEDIA_DOWNLOAD_URL_HOURS * 3_600_000
        now_ms = sandbox.state.clock.now_ms()
        if issued_ms is not None and (
            issued_ms + valid_ms <= now_ms or issued_ms < sandbox.state.media_urls_expired_ms
        ):
            return Response.text("forbidden: the download URL has expired", status=403)
    return Response(status=200, body=media.content, content_type=media.content_type)
