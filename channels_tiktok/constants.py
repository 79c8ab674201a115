"""Every fact about TikTok's Business Messaging API that the product relies on, in one place.

Source for each block: `docs/tiktok-api.md` (section named in the comment), which records what public
integrations and vendor docs agree on. When TikTok is observed to behave differently, change it here only.
The sandbox imports this module too, so the stand-in and the product agree on the wire format.
"""

from django.utils.translation import gettext_lazy as _

# --------------------------------------------------------------------------- §1 conventions
DEFAULT_API_BASE_URL = "https://business-api.tiktok.com/open_api/v1.3/"
DEFAULT_AUTHORIZE_URL = "https://www.tiktok.com/v2/auth/authorize/"
ACCESS_TOKEN_HEADER = "Access-Token"
LOG_ID_HEADER = "x-tt-logid"
MEDIA_DOWNLOAD_USER_HEADER = "x-user"

# --------------------------------------------------------------------------- §2 OAuth + §4 endpoints
# Paths are relative to the API base URL; every one ends with "/" (TikTok answers 404 without it).
PATH_OAUTH_TOKEN = "tt_user/oauth2/token/"
PATH_OAUTH_REFRESH = "tt_user/oauth2/refresh_token/"
PATH_OAUTH_REVOKE = "tt_user/oauth2/revoke/"
PATH_TOKEN_INFO = "tt_user/token_info/get/"
PATH_BUSINESS_GET = "business/get/"
PATH_MESSAGE_SEND = "business/message/send/"
PATH_MEDIA_UPLOAD = "business/message/media/upload/"
PATH_MEDIA_DOWNLOAD = "business/message/media/download/"
PATH_CAPABILITIES = "business/message/capabilities/get/"
PATH_CONVERSATION_LIST = "business/message/conversation/list/"
PATH_CONTENT_LIST = "business/message/content/list/"
PATH_VIDEO_LIST = "business/video/list/"
PATH_COMMENT_LIST = "business/comment/list/"
PATH_COMMENT_REPLY = "business/comment/reply/create/"
# Comment moderation (need comment.list.manage): hide {video_id, comment_id, action: HIDE|UNHIDE}, like
# {comment_id, action: LIKE|UNLIKE}, delete {comment_id}: only the business's own comments can be deleted.
PATH_COMMENT_HIDE = "business/comment/hide/"
PATH_COMMENT_LIKE = "business/comment/like/"
PATH_COMMENT_DELETE = "business/comment/delete/"
COMMENT_HIDE = "HIDE"
COMMENT_UNHIDE = "UNHIDE"
COMMENT_LIKE = "LIKE"
COMMENT_UNLIKE = "UNLIKE"
# §4 comment/list takes a list of comment ids and answers one page, 20 comments by default: the comments a worker
# needs (a viral video's new ones) are asked for this many at a time, so that the answer fits one default page.
COMMENT_LIST_MAX_IDS = 20
PATH_AUTO_MESSAGE_CREATE = "business/message/auto_message/create/"
PATH_AUTO_MESSAGE_UPDATE = "business/message/auto_message/update/"
PATH_AUTO_MESSAGE_DELETE = "business/message/auto_message/delete/"
PATH_AUTO_MESSAGE_SORT = "business/message/auto_message/sort/"
PATH_AUTO_MESSAGE_GET = "business/message/auto_message/get/"
PATH_AUTO_MESSAGE_STATUS = "business/message/auto_message/status/update/"
PATH_DIRECT_REPLY_GET = "business/message/direct_reply/get/"
PATH_DIRECT_REPLY_UPDATE = "business/message/direct_reply/update/"
PATH_WEBHOOK_UPDATE = "business/webhook/update/"
PATH_WEBHOOK_LIST = "business/webhook/list/"
PATH_WEBHOOK_DELETE = "business/webhook/delete/"

# business/video/list/: the fields the product asks for (a post to share), at most this many per page.
VIDEO_LIST_FIELDS = [
    "item_id",
    "caption",
    "thumbnail_url",
    "share_url",
    "embed_url",
    "create_time",
    "media_type",
    "is_ad",
]
VIDEO_LIST_MAX_COUNT = 20
VIDEO_MEDIA_TYPES = ("VIDEO", "PHOTO")

AUTH_CODE_TTL_SECONDS = 600  # §2: treat the authorization code as valid for 10 minutes, single use
PROFILE_FIELDS = ["username", "display_name", "profile_image", "is_business_account", "followers_count"]

# --------------------------------------------------------------------------- §3 scopes
SCOPE_MESSAGE_SEND = "message.list.send"
SCOPE_MESSAGE_READ = "message.list.read"
SCOPE_MESSAGE_MANAGE = "message.list.manage"
SCOPE_USER_BASIC = "user.info.basic"
SCOPE_USER_USERNAME = "user.info.username"
SCOPE_USER_ACCOUNT_TYPE = "user.account.type"
SCOPE_COMMENT_LIST = "comment.list"
SCOPE_COMMENT_MANAGE = "comment.list.manage"
SCOPE_VIDEO_LIST = "video.list"

MESSAGING_SCOPES = (SCOPE_MESSAGE_SEND, SCOPE_MESSAGE_READ, SCOPE_MESSAGE_MANAGE)
PROFILE_SCOPES = (SCOPE_USER_BASIC, SCOPE_USER_USERNAME, SCOPE_USER_ACCOUNT_TYPE)
COMMENT_SCOPES = (SCOPE_COMMENT_LIST, SCOPE_COMMENT_MANAGE)
VIDEO_SCOPES = (SCOPE_VIDEO_LIST,)
ALL_SCOPES = MESSAGING_SCOPES + PROFILE_SCOPES + COMMENT_SCOPES + VIDEO_SCOPES
# A connection without these is refused: the channel cannot work at all.
REQUIRED_SCOPES = MESSAGING_SCOPES

# §3/§4: business/get refuses the whole call (40001) when one asked field's scope was not granted.
PROFILE_FIELD_SCOPES = {
    "username": SCOPE_USER_USERNAME,
    "display_name": SCOPE_USER_BASIC,
    "profile_image": SCOPE_USER_BASIC,
    "followers_count": SCOPE_USER_BASIC,
    "is_business_account": SCOPE_USER_ACCOUNT_TYPE,
}

# What stops working without each scope: shown to the owner, to staff and to the bot builder (R3).
SCOPE_FEATURES = {
    SCOPE_MESSAGE_SEND: _("sending messages to clients"),
    SCOPE_MESSAGE_READ: _("receiving direct messages"),
    SCOPE_MESSAGE_MANAGE: _("conversation management (read receipts, image capability checks)"),
    SCOPE_USER_BASIC: _("showing the account's name and avatar"),
    SCOPE_USER_USERNAME: _("showing the account's username"),
    SCOPE_USER_ACCOUNT_TYPE: _("checking that the account is a Business Account"),
    SCOPE_COMMENT_LIST: _("comment callbacks (tiktok_client_new_comment)"),
    SCOPE_COMMENT_MANAGE: _("replying to comments (tiktok_create_comment)"),
    SCOPE_VIDEO_LIST: _("reading the account's video list"),
}

# --------------------------------------------------------------------------- §5 webhooks
SIGNATURE_HEADER = "TikTok-Signature"
DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300
# What a header TikTok sends can hold: `t` is Unix seconds (10 digits until the year 2286; 12 leave room), `s` is
# the hex of an HMAC-SHA256 (64 characters). A header longer than this, or with other characters, is not TikTok's.
SIGNATURE_TIMESTAMP_MAX_DIGITS = 12
SIGNATURE_HEX_LENGTH = 64
SIGNATURE_HEADER_MAX_CHARS = 512

WEBHOOK_EVENT_TYPE_DIRECT_MESSAGE = "DIRECT_MESSAGE"
WEBHOOK_EVENT_TYPE_COMMENT = "COMMENT"
WEBHOOK_EVENT_TYPES = (WEBHOOK_EVENT_TYPE_DIRECT_MESSAGE, WEBHOOK_EVENT_TYPE_COMMENT)

EVENT_RECEIVE_MSG = "im_receive_msg"
EVENT_RECEIVE_MSG_EU = "im_receive_msg_eu"
EVENT_SEND_MSG = "im_send_msg"
EVENT_MARK_READ = "im_mark_read_msg"
EVENT_REFERRAL = "im_referral_msg"
EVENT_HIGH_INTENT_COMMENT = "im_receive_high_intent_comment"
EVENT_COMMENT_UPDATE = "comment.update"
KNOWN_EVENTS = (
    EVENT_RECEIVE_MSG,
    EVENT_RECEIVE_MSG_EU,
    EVENT_SEND_MSG,
    EVENT_MARK_READ,
    EVENT_REFERRAL,
    EVENT_COMMENT_UPDATE,
)
# Which subscription (event_type) delivers which event.
# The events that carry one message (`message_id`, or a digest when TikTok sends none).
MESSAGE_EVENTS = (EVENT_RECEIVE_MSG, EVENT_SEND_MSG)

EVENT_SUBSCRIPTION = {
    EVENT_RECEIVE_MSG: WEBHOOK_EVENT_TYPE_DIRECT_MESSAGE,
    EVENT_RECEIVE_MSG_EU: WEBHOOK_EVENT_TYPE_DIRECT_MESSAGE,
    EVENT_SEND_MSG: WEBHOOK_EVENT_TYPE_DIRECT_MESSAGE,
    EVENT_MARK_READ: WEBHOOK_EVENT_TYPE_DIRECT_MESSAGE,
    EVENT_REFERRAL: WEBHOOK_EVENT_TYPE_DIRECT_MESSAGE,
    EVENT_HIGH_INTENT_COMMENT: WEBHOOK_EVENT_TYPE_DIRECT_MESSAGE,
    EVENT_COMMENT_UPDATE: WEBHOOK_EVENT_TYPE_COMMENT,
}

# Inbound message types (content.type), lowercase as TikTok sends them.
MSG_TYPE_TEXT = "text"
MSG_TYPE_IMAGE = "image"
MSG_TYPE_SHARE_POST = "share_post"
MSG_TYPE_STICKER = "sticker"
MSG_TYPE_VIDEO = "video"
MSG_TYPE_EMOJI = "emoji"
MSG_TYPE_TEMPLATE = "template"
MSG_TYPE_OTHER = "other"
# Inbound types whose media is fetched through media/download (media_type per type).
MEDIA_MESSAGE_TYPES = {"image": "IMAGE", "video": "VIDEO"}
# A reaction to a message. TikTok's public documentation does not describe its webhook shape: it is read
# tolerantly (see webhooks/received.py and docs/tiktok-api.md, "As delivered").
MSG_TYPE_REACTION = "reaction"

# Who sent a business message (content.message_tag.source on im_send_msg).
SEND_SOURCE_API = "API"
SEND_SOURCE_APP = "APP"
SEND_SOURCE_WEB = "WEB"

COMMENT_ACTION_INSERT = "insert"
COMMENT_ACTION_DELETE = "delete"
COMMENT_ACTION_HIDDEN = "set_to_hidden"
COMMENT_ACTION_FRIENDS_ONLY = "set_to_friends_only"
COMMENT_ACTION_PUBLIC = "set_to_public"
# comment.update actions other than insert: told to the bot as a `comment.status` event.
COMMENT_STATUS_ACTIONS = (
    COMMENT_ACTION_DELETE,
    COMMENT_ACTION_HIDDEN,
    COMMENT_ACTION_FRIENDS_ONLY,
    COMMENT_ACTION_PUBLIC,
)

# Bot callback lines (R11, R12).
CALLBACK_NEW_COMMENT = "tiktok_client_new_comment"
CALLBACK_SHARE_POST = "tiktok_client_share_post"
# The id slot of a share callback when the webhook carries no video id and its URL holds none either.
CALLBACK_UNKNOWN_VIDEO_ID = "unknown_video_id"

# Reading webhook times: a number below this is seconds, below WIRE_MICROS_FROM milliseconds, else microseconds.
# 10**11 seconds is the year 5138; 10**11 milliseconds is March 1973: no real time falls in between both readings.
WIRE_MILLIS_FROM = 10**11
WIRE_MICROS_FROM = 10**14
# The path segments of TikTok's video URLs that precede the video id (embed, share and web URLs).
VIDEO_URL_SEGMENTS = ("video", "embed", "v2", "v", "photo")

# Client variables maintained by the channel (R13).
VAR_CONVERSATION_ID = "tiktok_conversation_id"
VAR_IS_FOLLOWER = "tiktok_is_follower"
VAR_COMMENT_ID = "tiktok_comment_id"
VAR_COMMENT_VIDEO_ID = "tiktok_comment_video_id"
CHANNEL_VARIABLE_PREFIX = "tiktok_"

# --------------------------------------------------------------------------- §4 send bodies, §6 rules
RECIPIENT_TYPE_CONVERSATION = "CONVERSATION"
MESSAGE_TYPE_TEXT = "TEXT"
MESSAGE_TYPE_IMAGE = "IMAGE"
MESSAGE_TYPE_TEMPLATE = "TEMPLATE"
MESSAGE_TYPE_SENDER_ACTION = "SENDER_ACTION"
MESSAGE_TYPE_SHARE_POST = "SHARE_POST"  # share_post{item_id}: one of the business's own posts, takes a window slot
TEMPLATE_QA_BUTTON_CARD = "QA_BUTTON_CARD"  # our "callback" buttons
TEMPLATE_QA_LINK_CARD = "QA_LINK_CARD"  # our "url" buttons (open nothing on TikTok)
BUTTON_TYPE_REPLY = "REPLY"
SENDER_ACTION_TYPING = "TYPING"
SENDER_ACTION_MARK_READ = "MARK_READ"
CAPABILITY_IMAGE_SEND = "IMAGE_SEND"
CONVERSATION_TYPE_SINGLE = "SINGLE"
CONVERSATION_TYPE_STRANGER = "STRANGER"
MEDIA_TYPE_IMAGE = "IMAGE"
MEDIA_TYPE_VIDEO = "VIDEO"
MEDIA_DOWNLOAD_URL_HOURS = 24  # a media/download URL is valid this long

# Automatic messages (account configuration; need message.list.manage). Each type's body key, per-account count,
# and character limits; every item is reviewed by TikTok.
AUTO_WELCOME = "WELCOME_MESSAGE"
AUTO_SUGGESTED_QUESTION = "SUGGESTED_QUESTION"
AUTO_CHAT_PROMPT = "CHAT_PROMPT"
AUTO_REPLY = "AUTO_REPLY"  # only seen on echoes (auto_message_type), not configured through the API
AUTO_MESSAGE_TYPES = (AUTO_WELCOME, AUTO_SUGGESTED_QUESTION, AUTO_CHAT_PROMPT)
AUTO_MESSAGE_ECHO_TYPES = (*AUTO_MESSAGE_TYPES, AUTO_REPLY)
AUTO_MESSAGE_BODY_KEYS = {
    AUTO_WELCOME: "welcome_message",
    AUTO_SUGGESTED_QUESTION: "suggested_question",
    AUTO_CHAT_PROMPT: "chat_prompt",
}
AUTO_MESSAGE_MAX_ITEMS = {AUTO_WELCOME: 1, AUTO_SUGGESTED_QUESTION: 3, AUTO_CHAT_PROMPT: 6}
# type -> {field: max characters}; the first field is the item's title (or only text), the second its content.
AUTO_MESSAGE_FIELD_LIMITS = {
    AUTO_WELCOME: {"content": 250},
    AUTO_SUGGESTED_QUESTION: {"question": 80, "answer": 200},
    AUTO_CHAT_PROMPT: {"title": 18, "content": 150},
}
AUTO_REVIEW_REVIEWING = "REVIEWING"
AUTO_REVIEW_APPROVED = "APPROVED"
AUTO_REVIEW_REJECTED = "REJECTED"
AUTO_REVIEW_STATUSES = (AUTO_REVIEW_REVIEWING, AUTO_REVIEW_APPROVED, AUTO_REVIEW_REJECTED)
OPERATION_ENABLE = "ENABLE"
OPERATION_DISABLE = "DISABLE"

WINDOW_HOURS = 48  # R6: after each client message...
WINDOW_MAX_MESSAGES = 10  # ...at most 10 business messages
MAX_TEXT_LENGTH = 6000
MAX_BUTTONS = 3  # R14
MAX_TEXT_WITH_BUTTONS = 40  # R14: the card title
MAX_CALLBACK_BUTTON_TEXT = 20  # R14: QA_BUTTON_CARD button title
MAX_URL_BUTTON_TEXT = 40  # R14: QA_LINK_CARD button title
MAX_BUTTON_ID_LENGTH = 40
MAX_IMAGE_BYTES = 3 * 1024 * 1024  # R9
IMAGE_FORMATS = ("jpeg", "png")  # R9
MAX_COMMENT_REPLY_LENGTH = 1200  # §6 decision
DEFAULT_RATE_LIMIT_QPS = 10  # §6: per app, all accounts together
RATE_LIMIT_WINDOW_SECONDS = 1.0  # §6: "per second", read as any rolling second (the strictest reading)
MEDIA_ID_TTL_DAYS = 30
WEBHOOK_RETRY_HOURS = 72  # §5: dedupe keys must outlive this

# --------------------------------------------------------------------------- §7 error codes
CODE_OK = 0
CODE_INVALID_PARAM = 40000
CODE_NO_PERMISSION = 40001
CODE_INVALID_PARAM_2 = 40002
CODE_NOT_FOUND = 40007
CODE_DM_RULES = 40064
CODE_RATE_LIMITED = 40100
CODE_ACCESS_TOKEN_EXPIRED = 40102
CODE_REFRESH_TOKEN_EXPIRED = 40103
CODE_INVALID_ACCESS_TOKEN = 40105
CODE_FILE_TOO_LARGE = 40907
CODE_UNSUPPORTED_FILE_TYPE = 40908
CODE_SYSTEM_ERROR = 50000
CODE_SYSTEM_ERROR_2 = 50002
CODE_SYSTEM_ERROR_3 = 51065
# The comment-to-message reply (direct_reply COMMENT_REPLY): one code per condition TikTok enforces. TikTok's
# public pages name the conditions, not their codes: these are the sandbox's, and the product maps each one.
CODE_COMMENT_REPLY_BUSINESS_REGION = 40070
CODE_COMMENT_REPLY_COMMENTER_REGION = 40071
CODE_COMMENT_REPLY_NOT_ELIGIBLE = 40072  # not a first-level comment on the business's own video
CODE_COMMENT_REPLY_EXPIRED = 40073  # more than 48 hours after the comment
CODE_COMMENT_REPLY_ALREADY_REPLIED = 40074
CODE_COMMENT_REPLY_RECENT_EXCHANGE = 40075  # a DM exchange in the past 24 hours
CODE_COMMENT_REPLY_MINOR = 40076
CODE_COMMENT_REPLY_DISABLED = 40077  # the account's comment-to-message feature is off

TOKEN_ERROR_CODES = frozenset({CODE_ACCESS_TOKEN_EXPIRED, CODE_INVALID_ACCESS_TOKEN})
REAUTH_ERROR_CODES = frozenset({CODE_REFRESH_TOKEN_EXPIRED})
RATE_LIMIT_CODES = frozenset({CODE_RATE_LIMITED})
SYSTEM_ERROR_CODES = frozenset({CODE_SYSTEM_ERROR, CODE_SYSTEM_ERROR_2, CODE_SYSTEM_ERROR_3})

# --------------------------------------------------------------------------- referrals, comment-to-message
REFERRAL_SOURCE_AD = "ad"
REFERRAL_SOURCE_SHORT_LINK = "short_link"
REFERRAL_SOURCES = (REFERRAL_SOURCE_AD, REFERRAL_SOURCE_SHORT_LINK)
VAR_REFERRAL_SOURCE = "tiktok_referral_source"
VAR_AD_ID = "tiktok_ad_id"
VAR_AD_NAME = "tiktok_ad_name"
VAR_SHORT_LINK_REF = "tiktok_short_link_ref"
DIRECT_REPLY_TYPE_COMMENT_TO_MESSAGE = "COMMENT_TO_MESSAGE"
REPLY_TYPE_COMMENT_REPLY = "COMMENT_REPLY"
OPERATION_ENABLE = "ENABLE"
OPERATION_DISABLE = "DISABLE"
COMMENT_REPLY_BUSINESS_COUNTRIES = frozenset({"VN", "ID", "TH"})
COMMENT_REPLY_HOURS = 48  # a comment can be answered in DM this long after it was written
COMMENT_REPLY_NO_EXCHANGE_HOURS = 24  # ...if the commenter had no DM exchange with the business this long

# --------------------------------------------------------------------------- §8 regions
REGION_APAC = "apac"
REGION_LATAM = "latam"
REGION_METAP = "metap"
REGION_NORTH_AMERICA = "north_america"  # Canada and Mexico
REGION_US = "us"
REGION_EEA_CH_UK = "eea_ch_uk"

REGION_NAMES = {
    REGION_APAC: _("Asia-Pacific"),
    REGION_LATAM: _("Latin America"),
    REGION_METAP: _("Middle East, Turkey, Africa, Pakistan"),
    REGION_NORTH_AMERICA: _("North America (except the US)"),
    REGION_US: _("United States"),
    REGION_EEA_CH_UK: _("EEA, Switzerland, United Kingdom"),
}
UNAVAILABLE_REGIONS = frozenset({REGION_US, REGION_EEA_CH_UK})

_EEA = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO"
_APAC = (
    "AU BD BN BT CN FJ HK ID IN JP KH KI KR LA LK MM MN MO MV MY NP NR NZ PG PH PW SB SG TH TL TO TV TW VN VU WS"
    " FM MH KZ KG TJ TM UZ"
)
_LATAM = "AR BO BR CL CO CR CU DO EC GT HN HT JM NI PA PE PR PY SV UY VE BS BB BZ GY SR TT AG DM GD KN LC VC"
_METAP = (
    "AE BH EG IL IQ JO KW LB OM PS QA SA SY YE TR PK IR AF AZ AM GE"
    " DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML MR MU MA MZ"
    " NA NE NG RW ST SN SC SL SO ZA SS SD TZ TG TN UG ZM ZW"
)
COUNTRY_REGIONS: dict[str, str] = {
    **dict.fromkeys(_APAC.split(), REGION_APAC),
    **dict.fromkeys(_LATAM.split(), REGION_LATAM),
    **dict.fromkeys(_METAP.split(), REGION_METAP),
    **dict.fromkeys(["CA", "MX"], REGION_NORTH_AMERICA),
    "US": REGION_US,
    **dict.fromkeys([*_EEA.split(), "CH", "GB"], REGION_EEA_CH_UK),
}


def region_of(country: str) -> str | None:
    """The availability group of an ISO 3166-1 alpha-2 country code, or None if it is not in the table."""
    return COUNTRY_REGIONS.get((country or "").upper())


def region_available(country: str) -> bool | None:
    """Whether the messaging API works for an account registered in `country`; None when unknown."""
    region = region_of(country)
    if region is None:
        return None
    return region not in UNAVAILABLE_REGIONS


# The commenter's region for a comment-to-message reply.
COMMENT_REPLY_COMMENTER_REGIONS = frozenset({REGION_APAC, REGION_LATAM, REGION_METAP})
