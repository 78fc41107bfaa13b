from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    PARTNER = "partner", "Partner agency user"
    MANAGER = "manager", "Community safety manager"
    BOARD = "board", "Board member"


class User(AbstractUser):
    """A person who signs in. What they may do follows from their role (csp.permissions);
    a partner's reach also follows from the agencies they belong to (Agency.members)."""

    role = models.CharField(max_length=20, choices=Role, default=Role.PARTNER)
    job_title = models.CharField(max_length=200, blank=True)

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
