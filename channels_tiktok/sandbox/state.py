"""Everything the sandbox remembers, in memory: configuration, clock, accounts, users, tokens, conversations,
messages, media, videos, comments, webhook subscriptions and deliveries. One lock guards it all.

The seeded data is deterministic (same ids on every start and after `reset`) and documented on the
`/sandbox/` page and in docs/sandbox.md:

accounts (connectable on the consent page)
    `sbx-acct-mx-001`  @taqueria_sandbox  business, registered in MX (messaging available)
    `sbx-acct-br-002`  @loja_sandbox      business, registered in BR
    `sbx-acct-co-003`  @ana_personal      personal (not a business account), CO
users (people who write to the accounts)
    `sbx-user-lucia`   @lucia.mx   MX, follows the accounts, images allowed
    `sbx-user-pedro`   @pedro.co   CO, not a follower, IMAGE_SEND false
    `sbx-user-hans`    @hans.de    DE: restricted region, reaches accounts as `im_receive_msg_eu` only
    `sbx-user-joe`     @joe.us     US: restricted like the EEA per the product page
videos: three per business account, one for the personal account, 19-digit ids from 7300000000000000001.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import pickle
import threading
import time
from dataclasses import dataclass, field, replace

from channels_tiktok import constants

ROLE_BUSINESS = "business_account"
ROLE_PERSONAL = "personal_account"

# `echo_mode`: when the im_send_msg echo of an API send is delivered.
ECHO_AFTER = "after"  # in a background thread, right after the send is answered (TikTok's usual order)
ECHO_BEFORE = "before"  # synchronously, before the send is answered (the echo-first race)
ECHO_MANUAL = "manual"  # kept pending until `Sandbox.flush_deliveries()` (deterministic tests)
ECHO_MODES = (ECHO_AFTER, ECHO_BEFORE, ECHO_MANUAL)


class Clock:
    """TikTok's clock: the real time (so `time_machine` moves it too) plus an offset a test can advance."""

    def __init__(self):
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)


@dataclass
class Account:
    business_id: str  # = open_id of the token exchange = user_openid of webhooks
    username: str
    display_name: str
    is_business: bool
    country: str
    followers_count: int = 0
    comment_to_message: bool = True  # direct_reply COMMENT_TO_MESSAGE switch

    @property
    def profile_image(self) -> str:
        return f"https://p16-sign.tiktokcdn.com/sandbox/{self.business_id}.jpeg?x-expires=1700000000"


@dataclass
class User:
    unique_identifier: str
    username: str
    display_name: str
    country: str
    is_follower: bool = True
    image_send: bool = True  # the IMAGE_SEND capability of this user's conversations
    adult: bool = True  # a comment-to-message reply needs a commenter over 18

    @property
    def restricted(self) -> bool:
        """Users in the EEA, CH, UK (and the US per the product page) reach accounts without content."""
        return constants.region_of(self.country) in constants.UNAVAILABLE_REGIONS


@dataclass
class Message:
    message_id: str
    conversation_id: str
    from_business: bool
    type: str  # lowercase content type: text, image, share_post, template, sender_action
    body: dict  # the type's object as TikTok shows it: {"body": ...}, {"media_id": ...}, the template, ...
    timestamp_ms: int
    source: str = ""  # business messages: API, APP or WEB
    reply_source: dict | None = None
    counts_for_window: bool = True
    referenced: dict | None = None  # a quoted reply's referenced_message_info


@dataclass
class Conversation:
    conversation_id: str
    business_id: str
    user_id: str
    messages: list[Message] = field(default_factory=list)
    last_read_ms: int = 0  # the user read up to here (im_mark_read_msg)
    business_read_ms: int = 0  # the business marked the conversation read (sender action MARK_READ)
    referrals: list[dict] = field(default_factory=list)  # im_referral_msg referrals, oldest first

    def last_user_message(self) -> Message | None:
        return next((m for m in reversed(self.messages) if not m.from_business), None)

    def business_messages_since(self, since_ms: int) -> int:
        return sum(1 for m in self.messages if m.from_business and m.counts_for_window and m.timestamp_ms >= since_ms)


@dataclass
class Grant:
    """One token pair issued to the app for an account."""

    business_id: str
    scopes: tuple[str, ...]
    access_token: str
    refresh_token: str
    access_expires_at: float
    refresh_expires_at: float
    access_revoked: bool = False
    refresh_spent: bool = False  # rotated away or revoked


@dataclass
class AuthCode:
    code: str
    business_id: str
    scopes: tuple[str, ...]
    redirect_uri: str
    expires_at: float
    used: bool = False


@dataclass
class Media:
    media_id: str
    business_id: str
    content: bytes
    content_type: str
    created_at: float


@dataclass
class Video:
    item_id: str
    business_id: str
    caption: str
    create_time: int

    @property
    def share_url(self) -> str:
        return f"https://www.tiktok.com/@sandbox/video/{self.item_id}"

    @property
    def embed_url(self) -> str:
        return f"https://www.tiktok.com/embed/v2/{self.item_id}"


@dataclass
class Comment:
    comment_id: str
    video_id: str
    business_id: str  # whose video
    author_id: str  # unique_identifier of the author (a user, or the account itself for replies)
    username: str
    display_name: str
    text: str
    create_time: int
    parent_comment_id: str = ""
    status: str = "PUBLIC"
    dm_reply_message_id: str = ""  # the one private reply (direct_reply COMMENT_REPLY) it got


@dataclass
class Delivery:
    """One webhook event and its delivery attempts."""

    delivery_id: int
    event: str
    business_id: str
    callback_url: str | None
    body: bytes
    created_at: float
    attempts: list[dict] = field(default_factory=list)  # {"at", "status", "error", "signature"}
    status: str = "pending"  # pending, delivered, failed, no_subscription, not_authorized
    mode: str = "sync"  # sync, async, manual (pending until flushed)

    def summary(self) -> dict:
        envelope = json.loads(self.body)
        return {
            "delivery_id": self.delivery_id,
            "event": self.event,
            "business_id": self.business_id,
            "callback_url": self.callback_url,
            "status": self.status,
            "attempts": self.attempts,
            "envelope": envelope,
            "content": json.loads(envelope["content"]),
        }


SEED_ACCOUNTS = (
    Account("sbx-acct-mx-001", "taqueria_sandbox", "Taquería Sandbox", True, "MX", 1520),
    Account("sbx-acct-br-002", "loja_sandbox", "Loja Sandbox", True, "BR", 310),
    Account("sbx-acct-co-003", "ana_personal", "Ana (personal)", False, "CO", 42),
)
SEED_USERS = (
    User("sbx-user-lucia", "lucia.mx", "Lucía", "MX", is_follower=True, image_send=True),
    User("sbx-user-pedro", "pedro.co", "Pedro", "CO", is_follower=False, image_send=False),
    User("sbx-user-hans", "hans.de", "Hans", "DE", is_follower=True, image_send=False),
    User("sbx-user-joe", "joe.us", "Joe", "US", is_follower=False, image_send=False),
)
SEED_VIDEO_CAPTIONS = ("Tacos al pastor 🌮", "Behind the scenes", "Our new menu")
SEED_TIME = 1_700_000_000


def conversation_id_for(business_id: str, user_id: str) -> str:
    """Stable per pair; contains `+` and often `/`, like TikTok's, so callers must percent-encode it."""
    digest = hashlib.sha256(f"{business_id}|{user_id}".encode()).digest()[:18]
    return "0:1+" + base64.b64encode(digest).decode()


class SandboxState:
    """The in-memory world. Callers hold `lock` around reads and writes that must be consistent."""

    def __init__(self):
        self.lock = threading.RLock()
        self.clock = Clock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.clock.offset = 0.0
            self.accounts: dict[str, Account] = {a.business_id: replace(a) for a in SEED_ACCOUNTS}
            self.users: dict[str, User] = {u.unique_identifier: replace(u) for u in SEED_USERS}
            self.conversations: dict[str, Conversation] = {}
            self.grants: list[Grant] = []
            self.codes: dict[str, AuthCode] = {}
            self.media: dict[str, Media] = {}
            self.media_urls_expired_ms = 0  # download URLs issued before this are expired (expire_media_urls)
            self.videos: dict[str, Video] = {}
            self.comments: dict[str, Comment] = {}
            self.subscriptions: dict[str, str] = {}  # event_type -> callback_url
            self.deliveries: list[Delivery] = []
            self._message_ids = itertools.count(7_400_000_000_000_000_001)
            self._comment_ids = itertools.count(7_500_000_000_000_000_001)
            self._video_ids = itertools.count(7_300_000_000_000_000_001)
            self._delivery_ids = itertools.count(1)
            for account in self.accounts.values():
                captions = SEED_VIDEO_CAPTIONS if account.is_business else SEED_VIDEO_CAPTIONS[:1]
                for index, caption in enumerate(captions):
                    self.add_video(account.business_id, caption, create_time=SEED_TIME + index * 3600)

    # ------------------------------------------------------------------------------ persistence (the demo)
    def save(self, path: str) -> None:
        """Keep the world across restarts of `run_sandbox` (connected accounts keep working tokens)."""
        with self.lock:
            data = {key: value for key, value in vars(self).items() if key != "lock"}
            data["clock_offset"] = self.clock.offset
            del data["clock"]
            blob = pickle.dumps(data)
        with open(path, "wb") as file:
            file.write(blob)

    def load(self, path: str) -> None:
        with open(path, "rb") as file:
            data = pickle.load(file)  # noqa: S301 - a file this process wrote itself
        with self.lock:
            self.clock.offset = data.pop("clock_offset")
            vars(self).update(data)

    # ------------------------------------------------------------------------------ ids
    def next_message_id(self) -> str:
        return str(next(self._message_ids))

    def next_comment_id(self) -> str:
        return str(next(self._comment_ids))

    def next_delivery_id(self) -> int:
        return next(self._delivery_ids)

    # ------------------------------------------------------------------------------ lookups
    def add_video(self, business_id: str, caption: str, *, create_time: int | None = None) -> Video:
        video = Video(str(next(self._video_ids)), business_id, caption, create_time or int(self.clock.now()))
        self.videos[video.item_id] = video
        return video

    def newest_video(self, business_id: str) -> Video | None:
        own = [video for video in self.videos.values() if video.business_id == business_id]
        return max(own, key=lambda video: video.create_time) if own else None

    def add_comment(self, video: Video, author: Account | User, text: str, *, parent_comment_id: str = "") -> Comment:
        """A comment on `video` by a user, or by the account (a reply), now."""
        author_id = author.business_id if isinstance(author, Account) else author.unique_identifier
        comment = Comment(
            comment_id=self.next_comment_id(),
            video_id=video.item_id,
            business_id=video.business_id,
            author_id=author_id,
            username=author.username,
            display_name=author.display_name,
            text=text,
            create_time=int(self.clock.now()),
            parent_comment_id=str(parent_comment_id or ""),
        )
        self.comments[comment.comment_id] = comment
        return comment

    def account(self, business_id: str) -> Account | None:
        return self.accounts.get(str(business_id))

    def conversation(self, business_id: str, user_id: str, *, create: bool = True) -> Conversation | None:
        conversation_id = conversation_id_for(business_id, user_id)
        conversation = self.conversations.get(conversation_id)
        if conversation is None and create:
            conversation = Conversation(conversation_id, business_id, user_id)
            self.conversations[conversation_id] = conversation
        return conversation

    def grant_for_access(self, token: str) -> Grant | None:
        return next((g for g in self.grants if token and g.access_token == token), None)

    def grant_for_refresh(self, token: str) -> Grant | None:
        return next((g for g in self.grants if token and g.refresh_token == token), None)

    def live_grants(self, business_id: str) -> list[Grant]:
        """Grants whose authorisation still stands (refresh token usable): the app may get this account's
        webhooks."""
        now = self.clock.now()
        return [
            g
            for g in self.grants
            if g.business_id == business_id
            and not g.access_revoked
            and not g.refresh_spent
            and g.refresh_expires_at > now
        ]

    def granted_scopes(self, business_id: str) -> set[str]:
        return {scope for g in self.live_grants(business_id) for scope in g.scopes}

    def snapshot(self) -> dict:
        """Everything a test may assert on, as JSON-ready data (tokens are left out)."""
        with self.lock:
            return {
                "now": self.clock.now(),
                "clock_offset": self.clock.offset,
                "accounts": [
                    vars(a) | {"granted_scopes": sorted(self.granted_scopes(a.business_id))}
                    for a in self.accounts.values()
                ],
                "users": [vars(u) | {"restricted": u.restricted} for u in self.users.values()],
                "conversations": [
                    {
                        "conversation_id": c.conversation_id,
                        "business_id": c.business_id,
                        "user_id": c.user_id,
                        "last_read_ms": c.last_read_ms,
                        "messages": [vars(m) for m in c.messages],
                    }
                    for c in self.conversations.values()
                ],
                "videos": [vars(v) for v in self.videos.values()],
                "comments": [vars(c) for c in self.comments.values()],
                "media": [
                    {
                        "media_id": m.media_id,
                        "business_id": m.business_id,
                        "size": len(m.content),
                        "content_type": m.content_type,
                    }
                    for m in self.media.values()
                ],
                "subscriptions": dict(self.subscriptions),
                "deliveries": [d.summary() for d in self.deliveries],
            }
