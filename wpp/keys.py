"""The keys WPP Console reads and writes in a number's ``settings`` (jsonb of ``messenger_integrations``).

Defined here and nowhere else. Other keys in ``settings`` belong to other features of the school platform:
the console only ever merges its own keys (``IntegrationStore.merge_settings``) and never drops the rest.
"""
from __future__ import annotations

API_KEY = "wppApiKey"  # the platform client's apiKey (secret): mints JWTs at POST /auth/token
SESSION = "wppAccountNumber"  # the platform session (a 13-digit id such as "0000000000004"), not a phone number
JWT = "wppJwtToken"  # the platform JWT in use (secret)
JWT_EXPIRES_AT = "wppJwtExpiresAt"  # when JWT expires: Unix time in MILLISECONDS
SUB_ORG = "wppSubOrgId"  # "<org uuid>__wpp__<8 hex>": the id the platform client was created under (2nd+ number)
CREATE_REQUEST = "wppCreateRequestId"  # makes a repeated "create" (double click, F5) finish the same number
PHONE = "wppPhone"  # the phone's own number (digits with country code), once the platform has reported it
PRELINKED = "wppPreLinked"
DEMO_FLEET = "wppDemoFleet"  # the demo's seeded number: which of its first-glance fleet it is (wpp.demo_fleet)  # true while a new number's platform session was already linked before any scan
#: the platform refuses the number's keys: ``{"verdict": "refused", "kind": "token" | "api_key", "since": <Unix ms>,
#: "status": <HTTP status>, "said": "<the platform's own words>", "fresh": <a brand-new access key refused too>}``,
#: written once when the refusal begins and removed when it ends (``wpp.tokens.TokenManager``), so every replica
#: sees it; absent while the platform accepts the number's keys
KEY_EVIDENCE = "wppKeyEvidence"
# status pushed by the platform (webhooks): the secret in the address the platform posts to is never stored, only
# its SHA-256 (hex); a database reader cannot forge a push
WEBHOOK_HASH = "wppWebhookSecretHash"  # SHA-256 of the secret of the webhook registered on the platform
WEBHOOK_PENDING = "wppWebhookPendingHash"  # SHA-256 of a new secret while it is being registered (also accepted)
WEBHOOK_AT = "wppWebhookRegisteredAt"  # when the webhook was last registered: Unix time in MILLISECONDS
WEBHOOK_BASE = "wppWebhookBase"  # the console's address it was registered with (WPP_PUBLIC_URL; a change re-registers)
WEBHOOK_BROKEN = "wppWebhookBrokenAt"  # a change came without its push then (Unix ms): polled as usual until one comes

#: settings values that are secrets: never shown unmasked, logged, or written into the activity log
SECRET_KEYS: tuple[str, ...] = (API_KEY, JWT)

__all__ = [
    "API_KEY",
    "CREATE_REQUEST",
    "DEMO_FLEET",
    "JWT",
    "JWT_EXPIRES_AT",
    "KEY_EVIDENCE",
    "PHONE",
    "PRELINKED",
    "SECRET_KEYS",
    "SESSION",
    "SUB_ORG",
    "WEBHOOK_AT",
    "WEBHOOK_BASE",
    "WEBHOOK_BROKEN",
    "WEBHOOK_HASH",
    "WEBHOOK_PENDING",
]
