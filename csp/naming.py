"""What the service and its partnership are called, wherever text is written for people:
pages (through csp.context_processors), e-mails and the authenticator app (outside any
request). Both are the partnership's own (priorities.models.Partnership), never the
repository's name: another partnership deploying the service sees its own names."""

from priorities.models import Partnership

# Before the seed has loaded a partnership, or where it names no service.
SERVICE_NAME = "Community safety plan"


def service_name(partnership: Partnership) -> str:
    return partnership.header_name or SERVICE_NAME


def names() -> dict[str, str]:
    """The names for an e-mail's context (one query): ``service_name``, the name in the
    header ("Community safety plan"), and ``partnership_name``, the partnership's own."""
    partnership = Partnership.objects.deployed()
    return {"service_name": service_name(partnership), "partnership_name": partnership.name}


def totp_issuer(device=None) -> str:
    """The name an authenticator app shows beside the code (settings.OTP_TOTP_ISSUER)."""
    return names()["service_name"]
