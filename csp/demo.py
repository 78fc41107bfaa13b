"""Demo accounts (and, later, demo returns) for trying the app. Never for production."""

from django.db import transaction

from accounts.models import Role, User
from actions.models import Agency

DEMO_PASSWORD = "csp-demo-2022"

DEMO_ACCOUNTS = [
    # username, role, first name, last name, agency, superuser
    ("manager", Role.MANAGER, "Terry", "Hughes", None, False),
    ("board", Role.BOARD, "Bola", "Adeyemi", None, False),
    ("davss", Role.PARTNER, "Dana", "Vickers", "DAVSS", False),
    ("police", Role.PARTNER, "Pat", "Owens", "Kent Police", False),
    ("lookahead", Role.PARTNER, "Lou", "Ahmed", "Look Ahead", False),
    ("admin", Role.MANAGER, "Ada", "Minton", None, True),
]


@transaction.atomic
def create_demo_accounts() -> list[User]:
    users = []
    for username, role, first, last, agency_name, superuser in DEMO_ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username)
            user.set_password(DEMO_PASSWORD)
        user.role = role
        user.first_name, user.last_name = first, last
        user.email = f"{username}@example.org"
        user.is_superuser = user.is_staff = superuser
        user.save()
        if agency_name:
            user.agencies.add(Agency.objects.get(name=agency_name))
        users.append(user)
    return users
