"""`GET /media/tiktok/<signed token>/`: an inbound image or video from our storage, by the link the bot got.

The signature (and its age) is the only credential: a forged or expired link is 404. Until the background copy
exists the file is fetched from TikTok on demand (a fresh download URL), so the link outlives TikTok's 24 hours;
when TikTok cannot give it the answer is 502 `media_unavailable`, and the link works again later.
"""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from channels_tiktok.accounts.tokens import AccountUnavailableError
from channels_tiktok.tiktok.client import TikTokError
from channels_tiktok.webhooks import media
from clients.models import Message


@require_GET
def media_file(request: HttpRequest, token: str) -> FileResponse | JsonResponse:
    found = media.unsign(token)
    if found is None:
        raise Http404("No such media.")
    channel_id, message_id = found
    message = Message.objects.filter(
        channel_id=channel_id, external_id=message_id, direction=Message.Direction.INBOUND
    ).first()
    if message is None:
        raise Http404("No such media.")
    _kind, block = media._block(message)
    if not block.get("stored"):
        try:
            block = media.store(message)
        except (media.MediaError, TikTokError, AccountUnavailableError) as exc:
            return JsonResponse(
                {"code": "media_unavailable", "message": f"The media could not be fetched from TikTok yet: {exc}"},
                status=502,
            )
    response = FileResponse(default_storage.open(block["stored"], "rb"), content_type=block["content_type"])
    response["Cache-Control"] = "private, max-age=3600"
    return response
