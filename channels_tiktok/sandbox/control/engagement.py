"""The user's side of TikTok beyond messages: opening a conversation from an ad or a `tiktok.me` short link
(`im_referral_msg`) and writing a comment TikTok flags as high-intent (`im_receive_high_intent_comment`).
"""

from __future__ import annotations

from channels_tiktok import constants
from channels_tiktok.sandbox.control.common import ControlError, _account, _bool, _user, _video, delivery_result
from channels_tiktok.sandbox.core import SandboxCore
from channels_tiktok.sandbox.events import from_user_to_account, tiktok_id


def user_opens_from_referral(
    sandbox: SandboxCore,
    *,
    account: str = "sbx-acct-mx-001",
    user: str = "sbx-user-lucia",
    source: str = constants.REFERRAL_SOURCE_AD,
    ad_id: str = "1790000000000001",
    ad_name: str = "Tacos 2x1",
    ref: str = "spring-promo",
    prefilled_message: str = "Hola, quiero el 2x1",
    deliver: str = "sync",
) -> dict:
    """The user opens the conversation from a Direct Messaging ad (`source=ad`) or a tiktok.me short link
    (`source=short_link`): `im_referral_msg` with the referral."""
    if source not in constants.REFERRAL_SOURCES:
        raise ControlError(f"source must be one of {', '.join(constants.REFERRAL_SOURCES)}.")
    state = sandbox.state
    with state.lock:
        account_obj, user_obj = _account(sandbox, account), _user(sandbox, user)
        conversation = state.conversation(account_obj.business_id, user_obj.unique_identifier)
        now_ms = state.clock.now_ms()
        if source == constants.REFERRAL_SOURCE_AD:
            referral = {
                "source": source,
                "ad": {
                    "advertiser_id": "7000000000000000001",
                    "ad_id": str(ad_id),
                    "ad_name": ad_name,
                    "timestamp": now_ms,
                    "embed_url": f"https://www.tiktok.com/embed/v2/ad-{ad_id}",
                },
            }
        else:
            referral = {
                "source": source,
                "short_link": {
                    "ref": ref,
                    "prefilled_message": prefilled_message,
                    "prefilled_message_audit_status": "PASS",
                },
            }
        content = {
            "conversation_id": conversation.conversation_id,
            "timestamp": now_ms,
            **from_user_to_account(account_obj, user_obj),
            "unique_identifier": user_obj.unique_identifier,
            "referral": referral,
        }
        conversation.referrals.append(referral)
    delivery = sandbox.emit(constants.EVENT_REFERRAL, account_obj.business_id, content, mode=deliver)
    return {
        "conversation_id": conversation.conversation_id,
        "content": content,
        "delivery": delivery_result(delivery),
    }


def user_comments_high_intent(
    sandbox: SandboxCore,
    *,
    account: str = "sbx-acct-mx-001",
    user: str = "sbx-user-lucia",
    video_id: str | None = None,
    text: str = "¿Cuánto cuesta? ¿Hacen envíos?",
    parent_comment_id: str = "",
    is_follower: bool | str | None = None,
    deliver: str = "sync",
) -> dict:
    """The user comments on a video of the account (default: its newest) and TikTok flags the comment as
    high-intent: `im_receive_high_intent_comment` (no video id in it). `is_follower` defaults to the user's."""
    state = sandbox.state
    with state.lock:
        account_obj, user_obj = _account(sandbox, account), _user(sandbox, user)
        video = _video(sandbox, account, video_id)
        comment = state.add_comment(video, user_obj, text, parent_comment_id=parent_comment_id)
        follower = user_obj.is_follower if is_follower is None else _bool(is_follower)
        content = {
            **from_user_to_account(account_obj, user_obj),
            "unique_identifier": user_obj.unique_identifier,
            "comment_id": tiktok_id(comment.comment_id, as_numbers=sandbox.config.ids_as_numbers),
            "comment_text": text,
            "is_follower": follower,
            "timestamp": state.clock.now_ms(),
        }
    delivery = sandbox.emit(constants.EVENT_HIGH_INTENT_COMMENT, account_obj.business_id, content, mode=deliver)
    return {
        "comment_id": comment.comment_id,
        "video_id": video.item_id,
        "content": content,
        "delivery": delivery_result(delivery),
    }


def expire_media_urls(sandbox: SandboxCore) -> dict:
    """Every media download URL given out so far expires now (as TikTok's do after 24 hours); media/download
    gives fresh ones."""
    with sandbox.state.lock:
        sandbox.state.media_urls_expired_ms = sandbox.state.clock.now_ms() + 1
        return {"expired_before_ms": sandbox.state.media_urls_expired_ms}
