"""Authorization codes used up for good: a replayed code revokes its tokens, a failed redemption kills its code.

RFC 6749 §4.1.2: a code is used once, and "if an authorization code is used more than once,
the authorization server MUST deny the request and SHOULD revoke (when possible) all tokens
previously issued based on that authorization code". django-oauth-toolkit denies, but keeps
no record of what the code issued; :class:`~accounts.models.RedeemedCode` is that record.
A redemption that fails (a wrong PKCE verifier, a wrong redirect URI) deletes the code too,
so whoever holds it cannot try again with what they lacked (RFC 9700 §4.5: an attacker
guessing the verifier gets one attempt, not many). A redemption holds its code's lock
throughout (:func:`code_lock`), so two at once are a redemption and a replay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from ..models import RedeemedCode

logger = logging.getLogger(__name__)

# Long enough to outlive every token a code can buy (8 h, refreshed by rotation within a day).
KEPT_FOR = dt.timedelta(days=7)


def _checksum(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def code_redeemed_record(
    *, code: str, application_id: int, token_family: uuid.UUID | None, access_token_id: int | None
) -> None:
    """Remember what ``code`` bought (and forget the records no token can outlive)."""
    now = timezone.now()
    RedeemedCode.objects.filter(redeemed_at__lt=now - KEPT_FOR).delete()
    RedeemedCode.objects.create(
        code_checksum=_checksum(code),
        application_id=application_id,
        token_family=token_family,
        access_token_id=access_token_id,
        redeemed_at=now,
    )


def code_replay_revoke(*, code: str, application_id: int) -> bool:
    """If ``code`` was redeemed before by this application, revoke everything it bought; return whether it was."""
    record = RedeemedCode.objects.filter(code_checksum=_checksum(code), application_id=application_id).first()
    if record is None:
        return False
    with transaction.atomic():
        get_refresh_token_model().revoke_family(record.token_family)
        if record.access_token_id is not None:
            get_access_token_model().objects.filter(pk=record.access_token_id).delete()
    logger.warning("authorization code replayed: the tokens of its first redemption are revoked")
    return True


def code_lock(*, code: str) -> None:
    """Lock the grant of ``code`` until the transaction ends: one redemption of a code at a time.

    django-oauth-toolkit reads the grant without a lock, so two redemptions at once both
    passed its check and both minted tokens; the later one failed only at the grant's
    delete (an HTML 400), and the earlier one's tokens lived on. Locked, the later one waits,
    finds the code used and revokes what the earlier one bought (:func:`code_replay_revoke`).
    """
    get_grant_model().objects.select_for_update().filter(code=code).first()


def code_kill(*, code: str) -> None:
    """Delete the grant of a code whose redemption failed: it buys nothing afterwards."""
    get_grant_model().objects.filter(code=code).delete()
