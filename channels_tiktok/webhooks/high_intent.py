"""`im_receive_high_intent_comment`: TikTok flags a comment as high-intent (on the DIRECT_MESSAGE subscription).

It carries the comment's id and text and whether the commenter follows the account, but no video id. The client
gets `tiktok_comment_id` and, since TikTok says so here, `tiktok_is_follower`; the comment is kept so that its one
private reply (messaging/comment_dm.py) can be checked; the bot gets `client.high_intent_comment`.
"""

from __future__ import annotations

from channels_tiktok import constants
from channels_tiktok.models import HighIntentComment, WebhookEvent
from channels_tiktok.webhooks import wire
from channels_tiktok.webhooks.inbound import PROCESSED, Inbound, Outcome, id_in, upsert_user
from channels_tiktok.webhooks.received import is_follower
from clients import services
from clients.models import BotEvent


def receive_high_intent_comment(inbound: Inbound) -> Outcome:
    content = inbound.content
    external_id = id_in(content, "unique_identifier") or id_in(content, "from_user", "id")
    comment_id = id_in(content, "comment_id")
    if not (external_id and comment_id):
        return Outcome(WebhookEvent.Status.FAILED, "high-intent comment without its author or comment id")
    text = content["comment_text"] if isinstance(content.get("comment_text"), str) else ""
    username = content["from"] if isinstance(content.get("from"), str) else ""
    commented_at = wire.as_time(content.get("timestamp")) or inbound.at()
    client = upsert_user(inbound, external_id=external_id, username=username, display_name="", seen_at=inbound.at())
    values = {constants.VAR_COMMENT_ID: comment_id}
    follower = is_follower(content)
    if follower is not None:
        values[constants.VAR_IS_FOLLOWER] = follower
    variables, _changed = services.merge_variables(client=client, values=values)
    # Once per comment (a replay or a second flag changes nothing): INSERT … ON CONFLICT DO NOTHING.
    HighIntentComment.objects.bulk_create(
        [
            HighIntentComment(
                account=inbound.account, client=client, comment_id=comment_id, text=text, commented_at=commented_at
            )
        ],
        ignore_conflicts=True,
    )
    inbound.emit(
        BotEvent.Type.CLIENT_HIGH_INTENT_COMMENT,
        client=client,
        text=text,
        data={
            "comment_id": comment_id,
            "comment_text": text,
            "is_follower": None if follower is None else follower == "True",
            "commented_at": commented_at.isoformat(),
        },
        variables=variables,
    )
    return PROCESSED
