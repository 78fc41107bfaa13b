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
