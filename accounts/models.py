import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords


class Role(models.TextChoices):
    PARTNER = "partner", "Partner agency user"
    MANAGER = "manager", "Community safety manager"
    BOARD = "board", "Board member"


class User(AbstractUser):
    """A person who signs in. What they may do follows from their role (csp.permissions);
    a partner's reach also follows from the agencies they belong to (Agency.members)."""

    role = models.CharField(max_length=20, choices=Role, default=Role.PARTNER)
    job_title = models.CharField(max_length=200, blank=True)

    # Never the password hash; and not the time of each sign-in, which is not a change
    # anyone made to the account (accounts.apps records it without a history row).
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        ordering = ["username"]

    @property
    def is_partner(self) -> bool:
        return self.role == Role.PARTNER

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_board_member(self) -> bool:
        return self.role == Role.BOARD

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Throttle(models.Model):
    """Attempts at one guarded thing (signing in as an account, a reset e-mail to an
    address, …) in the current window, and until when further attempts are refused.
    Kept by accounts/throttles.py; in the database so every worker and process sees the
    same count."""

    limit = models.CharField(max_length=40)
    # An HMAC of the account or address (never the text a visitor typed).
    key = models.CharField(max_length=64)
    window_started = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    refused_until = models.DateTimeField(null=True, blank=True)
    # Refusals in a row, each twice as long as the last (up to the limit's longest).
    refusals = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["limit", "key"], name="one_throttle_per_limit_and_key")
        ]
        indexes = [models.Index(fields=["limit", "window_started"])]

    def __str__(self) -> str:
        return f"{self.limit} {self.key[:8]}…: {self.attempts}"


# An invitation link works for this long after it is sent (ASVS 6.4.1: activation codes
# expire after a short period).
INVITATION_LIFETIME = timedelta(hours=72)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        """Neither accepted nor cancelled (it may have expired)."""
        return self.filter(accepted_at__isnull=True, cancelled_at__isnull=True)

    def usable(self):
        return self.pending().filter(expires_at__gt=timezone.now())


class Invitation(models.Model):
    """A one-time link to choose a password for an account the manager created.

    Only a hash of the link's token is stored, so a copy of the database opens no account.
    A model rather than Django's password-reset token generator: the generator's tokens
    share PASSWORD_RESET_TIMEOUT (24 hours) with password reset, cannot be cancelled one by
    one, and leave no record of who invited whom or who has not accepted.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.user.email} ({self.state})"

    @classmethod
    def issue(cls, user, invited_by) -> tuple["Invitation", str]:
        """A new invitation and its token, which exists only in the e-mail from here on."""
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        invitation = cls.objects.create(
            user=user,
            token_hash=hash_token(token),
            invited_by=invited_by,
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        return invitation, token

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.cancelled_at:
            return "cancelled"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
