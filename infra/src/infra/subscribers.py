"""Who the alarm topics notify: e-mail addresses and HTTPS endpoints per severity.

Read from the environment or the CDK context (``infra.app``), as comma-separated lists:

| environment variable       | context key      | subscribed to     |
|----------------------------|------------------|-------------------|
| INFRA_CRITICAL_EMAILS      | criticalEmails   | the critical topic (the pages) |
| INFRA_CRITICAL_URLS        | criticalUrls     | the critical topic |
| INFRA_WARNING_EMAILS       | warningEmails    | the warning topic  |
| INFRA_WARNING_URLS         | warningUrls      | the warning topic  |

An HTTPS URL is what PagerDuty's and Opsgenie's Amazon CloudWatch integrations give you
(their endpoint confirms the SNS subscription itself); an e-mail address gets a confirmation
mail from SNS that someone must accept. Plain ``http://`` is refused: the topics are for
alarms about users' sessions and travel over TLS only.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from infra.alarm_vocabulary import Severity

# Settings: (environment variable, context key) per severity and kind.
SETTINGS = {
    (Severity.CRITICAL, "emails"): ("INFRA_CRITICAL_EMAILS", "criticalEmails"),
    (Severity.CRITICAL, "urls"): ("INFRA_CRITICAL_URLS", "criticalUrls"),
    (Severity.WARNING, "emails"): ("INFRA_WARNING_EMAILS", "warningEmails"),
    (Severity.WARNING, "urls"): ("INFRA_WARNING_URLS", "warningUrls"),
}

# Deliberately loose (SNS validates for real): one @, no spaces, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")


class SubscriberError(ValueError):
    """A subscriber setting that SNS would refuse, named with its setting."""


@dataclass(frozen=True)
class Subscribers:
    emails: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.emails or self.urls)


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def parse_emails(raw: str, setting: str) -> tuple[str, ...]:
    emails = _split(raw)
    bad = [e for e in emails if not _EMAIL.match(e)]
    if bad:
        raise SubscriberError(f"{setting}: not an e-mail address: {', '.join(bad)}")
    return emails


def parse_urls(raw: str, setting: str) -> tuple[str, ...]:
    urls = _split(raw)
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise SubscriberError(
                f"{setting}: {url!r} is not an https:// URL (SNS delivers alarms over TLS only)"
            )
    return urls


def subscribers_from(lookup: Callable[[str, str], str | None]) -> dict[Severity, Subscribers]:
    """Each severity's subscribers; ``lookup(env var, context key)`` returns a setting's raw
    value (or None). Raises `SubscriberError` for a malformed address or URL."""
    result: dict[Severity, Subscribers] = {}
    for severity in Severity:
        env_emails, ctx_emails = SETTINGS[(severity, "emails")]
        env_urls, ctx_urls = SETTINGS[(severity, "urls")]
        who = Subscribers(
            emails=parse_emails(lookup(env_emails, ctx_emails) or "", env_emails),
            urls=parse_urls(lookup(env_urls, ctx_urls) or "", env_urls),
        )
        if who:
            result[severity] = who
    return result
