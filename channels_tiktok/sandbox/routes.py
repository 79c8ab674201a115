"""Every dispatch table of the sandbox in one place: which handler answers each Business API path, and which
function runs each control action (`POST /sandbox/control/<action>/`, `SandboxControl.<action>()`).
"""

from channels_tiktok import constants
from channels_tiktok.sandbox import oauth
from channels_tiktok.sandbox.api import (
    accounts,
    auto_messages,
    conversations,
    direct_reply,
    media,
    messages,
    moderation,
    videos,
)
from channels_tiktok.sandbox.control import auto, engagement, readback, scenarios, world

API_ROUTES = {
    constants.PATH_OAUTH_TOKEN: ("POST", oauth.token),
    constants.PATH_OAUTH_REFRESH: ("POST", oauth.refresh),
    constants.PATH_OAUTH_REVOKE: ("POST", oauth.revoke),
    constants.PATH_TOKEN_INFO: ("POST", oauth.token_info),
    constants.PATH_BUSINESS_GET: ("GET", accounts.business_get),
    constants.PATH_MESSAGE_SEND: ("POST", messages.send),
    constants.PATH_MEDIA_UPLOAD: ("POST", media.media_upload),
    constants.PATH_MEDIA_DOWNLOAD: ("POST", media.media_download),
    constants.PATH_CAPABILITIES: ("GET", conversations.capabilities),
    constants.PATH_CONVERSATION_LIST: ("GET", conversations.conversation_list),
    constants.PATH_CONTENT_LIST: ("GET", conversations.content_list),
    constants.PATH_VIDEO_LIST: ("GET", videos.video_list),
    constants.PATH_COMMENT_LIST: ("GET", videos.comment_list),
    constants.PATH_COMMENT_REPLY: ("POST", videos.comment_reply),
    constants.PATH_COMMENT_HIDE: ("POST", moderation.hide),
    constants.PATH_COMMENT_LIKE: ("POST", moderation.like),
    constants.PATH_COMMENT_DELETE: ("POST", moderation.delete),
    constants.PATH_AUTO_MESSAGE_CREATE: ("POST", auto_messages.create),
    constants.PATH_AUTO_MESSAGE_UPDATE: ("POST", auto_messages.update),
    constants.PATH_AUTO_MESSAGE_DELETE: ("POST", auto_messages.delete),
    constants.PATH_AUTO_MESSAGE_SORT: ("POST", auto_messages.sort),
    constants.PATH_AUTO_MESSAGE_GET: ("GET", auto_messages.get),
    constants.PATH_AUTO_MESSAGE_STATUS: ("POST", auto_messages.status_update),
    constants.PATH_DIRECT_REPLY_GET: ("GET", direct_reply.direct_reply_get),
    constants.PATH_DIRECT_REPLY_UPDATE: ("POST", direct_reply.direct_reply_update),
    constants.PATH_WEBHOOK_UPDATE: ("POST", accounts.webhook_update),
    constants.PATH_WEBHOOK_LIST: ("GET", accounts.webhook_list),
    constants.PATH_WEBHOOK_DELETE: ("POST", accounts.webhook_delete),
}

# The control actions by name, grouped as their modules are.
SCENARIOS = (
    scenarios.user_writes,
    scenarios.user_sends,
    scenarios.restricted_user_writes,
    scenarios.user_sends_image,
    scenarios.user_shares_video,
    scenarios.user_taps_button,
    scenarios.user_comments,
    scenarios.comment_action,
    scenarios.user_reads,
    scenarios.operator_writes,
    auto.auto_message_sends,
    auto.review_auto_message,
    engagement.user_opens_from_referral,
    engagement.user_comments_high_intent,
    engagement.expire_media_urls,
)
WORLD = (
    world.create_user,
    world.set_user,
    world.set_capability,
    world.create_account,
    world.set_account,
    world.add_video,
    world.issue_token,
    world.expire_token,
    world.advance_clock,
    world.subscribe,
    world.configure,
    world.inject_failure,
    world.clear_failures,
    world.reset,
    world.flush_deliveries,
    world.redeliver,
    world.wait_for_deliveries,
)
READBACK = (
    readback.deliveries,
    readback.messages,
    readback.sent_messages,
    readback.comments,
    readback.api_calls,
    readback.state,
)
ACTIONS = {fn.__name__: fn for fn in (*SCENARIOS, *WORLD, *READBACK)}
