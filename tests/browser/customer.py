"""One customer with a long history, posted to a running server through the API: Jane Doe
with a customer record, catalogue products with images, 24 purchases, 4 returns, 30 email
events, 6 SMS events and 8 tickets (3 open) — 72 history items, several pages of History —
plus an SMS-only profile a ticket merges into hers, and a batch with rejections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

EMAIL = "jane.doe@example.com"
MOBILE = "+61411222333"
IMAGE_HOST = "https://images.example"
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
PURCHASES, RETURNS, EMAILS, SMS, TICKETS, OPEN_TICKETS = 24, 4, 30, 6, 8, 3
# The merged SMS-only profile brings its one click.
HISTORY_ITEMS = PURCHASES + RETURNS + EMAILS + SMS + TICKETS + 1
PRODUCTS = [("P-1", "Rib Crew Knit"), ("P-2", "Selvedge Jean"), ("P-3", "Leather Sneaker")]


@dataclass(frozen=True)
class Seeded:
    """What the browser tests look for."""

    profile_id: str
    log_with_rejections: str
    datasets: dict[str, str]


def _at(days: float) -> str:
    return (START + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(base_url: str, token: str) -> Seeded:
    """Post the customer's records; return where to find them."""
    headers = {"Authorization": f"Bearer {token}"}
    datasets: dict[str, str] = {}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:

        def post(
            record_type: str, records: list[dict[str, Any]], *, rejects: int = 0
        ) -> dict[str, Any]:
            if record_type not in datasets:
                made = client.post(
                    "/v1/datasets", json={"name": f"Shop {record_type}", "record_type": record_type}
                )
                made.raise_for_status()
                datasets[record_type] = made.json()["id"]
            answer = client.post(
                f"/v1/datasets/{datasets[record_type]}/{record_type}", json=records
            )
            answer.raise_for_status()
            body: dict[str, Any] = answer.json()
            assert body["rejected"] == rejects, body
            return body

        link = {"email": EMAIL}
        post(
            "product",
            [
                {
                    "product_id": product_id,
                    "name": name,
                    "url": f"https://shop.example/{product_id}",
                    "images": [f"{IMAGE_HOST}/{product_id}.jpg"],
                    "options": {"category": ["outerwear" if n == 0 else "basics"]},
                }
                for n, (product_id, name) in enumerate(PRODUCTS)
            ],
        )
        post(
            "customer_record",
            [
                {
                    "link": link,
                    "customer_id": "C-1001",
                    "first_name": "Jane",
                    "last_name": "Doe",
                    "city": "Melbourne",
                    "state": "VIC",
                    "country": "AU",
                    "custom_fields": {"loyalty_tier": "gold"},
                }
            ],
        )
        post(
            "purchase",
            [
                {
                    "link": link,
                    "action_at": _at(n * 10),
                    "purchase_id": f"o-{n}",
                    "type": "ecommerce",
                    "currency": "AUD",
                    "products": [
                        {
                            "price_paid": 40.0 + n,
                            "quantity": 1 + n % 2,
                            "product_reference": {
                                "id": PRODUCTS[n % 3][0],
                                "id_type": "product_id",
                            },
                        }
                    ],
                }
                for n in range(PURCHASES)
            ],
        )
        post(
            "return",
            [
                {
                    "link": link,
                    "action_at": _at(n * 10 + 3),
                    "return_id": f"r-{n}",
                    "type": "ecommerce",
                    "currency": "AUD",
                    "products": [
                        {
                            "price_paid": -(40.0 + n),
                            "quantity": -1,
                            "product_reference": {
                                "id": PRODUCTS[n % 3][0],
                                "id_type": "product_id",
                            },
                        }
                    ],
                }
                for n in range(RETURNS)
            ],
        )
        kinds = ("email_send", "email_open", "email_click")
        for kind in kinds:
            post(
                kind,
                [
                    {
                        "link": link,
                        "action_at": _at(n * 20 + 1 + kinds.index(kind) * 0.1),
                        "email_id": f"{kind}-{n}",
                        "campaign_id": f"Campaign {n}",
                        "subject": f"Winter edit {n}",
                    }
                    for n in range(EMAILS // len(kinds))
                ],
            )
        post(
            "sms_send",
            [
                {"link": link, "action_at": _at(n * 30 + 2), "sms_id": f"sms-{n}"}
                for n in range(SMS)
            ],
        )
        post(
            "customer_support_ticket",
            [
                {
                    "ticket_id": f"T-{n}",
                    "action_at": _at(n * 30 + 5),
                    "link": link,
                    "title": f"Order question {n}",
                    "ticket_url": f"https://brand.zendesk.com/agent/tickets/{n}",
                    "timeline": {
                        "created_at": _at(n * 30 + 4),
                        **({} if n >= TICKETS - OPEN_TICKETS else {"closed_at": _at(n * 30 + 5)}),
                    },
                    "channel": {"type": ["email"], "name": ["help@brand.com"]},
                    "status": "open" if n >= TICKETS - OPEN_TICKETS else "solved",
                    "tags": ["shipping", "vip"] if n % 2 else ["refund"],
                    "agents": ["Sam K"],
                }
                for n in range(TICKETS - 1)
            ],
        )
        # An SMS platform's profile, known by mobile only, and a ticket naming both links:
        # the two profiles merge (rule shared_link) into Jane's, the older one.
        post("sms_click", [{"link": {"mobile": MOBILE}, "action_at": _at(1), "sms_id": "c-1"}])
        last = TICKETS - 1
        post(
            "customer_support_ticket",
            [
                {
                    "ticket_id": f"T-{last}",
                    "action_at": _at(last * 30 + 5),
                    "link": {"email": EMAIL, "mobile": MOBILE},
                    "title": "Where is my parcel?",
                    "ticket_url": f"https://brand.zendesk.com/agent/tickets/{last}",
                    "timeline": {"created_at": _at(last * 30 + 4)},
                    "channel": {"type": ["chat"], "name": ["web-chat"]},
                    "status": "pending",
                    "tags": ["shipping"],
                    "agents": ["Sam K"],
                },
                {"ticket_id": "", "action_at": "yesterday", "link": {}},
                {"ticket_id": "T-bad", "action_at": _at(1), "link": {"email": "not an email"}},
            ],
            rejects=2,
        )
        logs = client.get(f"/v1/datasets/{datasets['customer_support_ticket']}/logs").json()
        rejected = next(log["id"] for log in logs["items"] if log["rejected"])
        profile = client.get(f"/v1/profiles/by/email/{EMAIL}").json()
    return Seeded(profile["id"], rejected, datasets)
