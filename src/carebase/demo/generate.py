"""A realistic, deterministic demo brand: the same seed and anchor day give the same records.

People are known by different links in different systems, as in real brands: the shop
keys customer records by customer_id, the helpdesk by email (and sometimes mobile), the SMS
platform by mobile. Unify records join a customer_id to an email, and tickets that carry
an email and a mobile join an SMS-only profile to an email one, so loading the demo
exercises merges.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST = ["Jane", "Bob", "Aisha", "Liam", "Mei", "Noah", "Olivia", "Raj", "Sofia", "Tom"]
FIRST += ["Zara", "Ethan", "Chloe", "Hugo", "Isla", "Kai", "Lena", "Marco", "Nina", "Oscar"]
LAST = ["Doe", "Smith", "Nguyen", "Patel", "Garcia", "Kim", "Brown", "Rossi", "Khan", "Lee"]
LAST += ["Walker", "Chen", "Murphy", "Silva", "Cohen", "Ito", "Novak", "Ali", "Berg", "Diaz"]
CITIES = [("Melbourne", "VIC", "3000"), ("Sydney", "NSW", "2000"), ("Brisbane", "QLD", "4000")]
CITIES += [("Perth", "WA", "6000"), ("Adelaide", "SA", "5000"), ("Hobart", "TAS", "7000")]
CATEGORIES = {
    "outerwear": ["Rib Crew Knit", "Wool Overcoat", "Puffer Jacket", "Rain Shell"],
    "tops": ["Linen Shirt", "Oxford Shirt", "Merino Tee", "Polo"],
    "bottoms": ["Chino", "Selvedge Jean", "Drawstring Short", "Pleated Trouser"],
    "footwear": ["Leather Sneaker", "Chelsea Boot", "Canvas Slip-on", "Trail Runner"],
    "accessories": ["Canvas Tote", "Beanie", "Leather Belt", "Silk Scarf"],
}
COLOURS = ["Navy", "Black", "Olive", "Sand", "White"]
CHANNELS = [("email", "help@demo-brand.com"), ("chat", "web-chat"), ("web_form", "contact-form")]
TAGS = ["shipping", "refund", "sizing", "exchange", "warranty", "vip", "complaint", "ecommerce"]
AGENTS = ["Aaron W", "Matt M", "Priya S", "Chen L", "Olivia R", "Sam K"]
STATUSES = ["open", "pending", "solved", "solved", "closed", "closed"]
SCORES = ["good", "good", "bad", None, None]
SUBJECTS = {
    "shipping": "Where is my order?",
    "refund": "Refund request",
    "sizing": "Wrong size",
    "exchange": "Exchange for another colour",
    "warranty": "Faulty seam",
    "complaint": "Unhappy with delivery",
}
CAMPAIGNS = ["Winter Sale", "New Arrivals", "Members Week", "Black Friday", "Summer Preview"]
RETURN_REASONS = ["too small", "faulty", "changed mind"]
LISTS = [("lst_news", "Newsletter"), ("lst_vip", "VIP Members")]


@dataclass(frozen=True, slots=True)
class Person:
    """One demo customer and the identifiers each system knows them by."""

    number: int
    first: str
    last: str
    email: str
    mobile: str
    customer_id: str


@dataclass(slots=True)
class DemoData:
    """Every demo record, by record type, in load order."""

    batches: dict[str, list[dict[str, Any]]]

    def count(self) -> int:
        """Records of every type."""
        return sum(len(records) for records in self.batches.values())


def people(count: int, rng: random.Random) -> list[Person]:
    """`count` distinct people."""
    return [
        Person(
            number,
            (first := rng.choice(FIRST)),
            (last := rng.choice(LAST)),
            f"{first.lower()}.{last.lower()}{number}@example.com",
            f"+614{rng.randrange(10_000_000, 99_999_999)}",
            f"C-{100_000 + number}",
        )
        for number in range(count)
    ]


def generate(
    *, profiles: int = 5000, tickets: int = 20_000, seed: int = 7, anchor: datetime
) -> DemoData:
    """The demo brand's records; dates fall in the 365 days before `anchor`."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    crowd = people(profiles, rng)
    start = anchor - timedelta(days=365)

    def moment() -> datetime:
        return start + timedelta(seconds=rng.randrange(0, 365 * 86_400))

    products: list[dict[str, Any]] = [
        {
            "product_id": f"P-{index:03d}",
            "sku": f"SKU-{index:05d}",
            "product_reference_type": "product_id",
            "name": name,
            "brand": "Demo Brand",
            "color": COLOURS[index % len(COLOURS)],
            "price": float(29 + (index * 7) % 170) + 0.95,
            "options": {"department": ["apparel"], "category": [category]},
            "url": f"https://demo-brand.example/products/P-{index:03d}",
            "images": [f"https://demo-brand.example/images/P-{index:03d}.jpg"],
        }
        for index, (category, name) in enumerate(
            (category, name) for category, names in CATEGORIES.items() for name in names
        )
    ]
    categories = [{"name": name, "description": f"{name.title()} range"} for name in CATEGORIES]
    customers, unify = [], []
    for person in crowd:
        city, state, postcode = rng.choice(CITIES)
        record: dict[str, Any] = {
            "link": {"customer_id": person.customer_id, "system_name": "demo_shop"},
            "email": person.email,
            "mobile": person.mobile,
            "customer_id": person.customer_id,
            "first_name": person.first,
            "last_name": person.last,
            "gender": rng.choice(["Female", "Male", "Non-binary", None]),
            "date_of_birth": f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-"
            f"{rng.randrange(1, 29):02d}",
            "country": "Australia",
            "state": state,
            "city": city,
            "postcode": postcode,
            "customer_type": rng.choice(["Retail", "Retail", "VIP", "Wholesale"]),
            "custom_fields": {
                "loyalty_status": rng.choice(["bronze", "silver", "gold", "platinum"]),
                "loyalty_points": rng.randrange(0, 5000),
            },
        }
        customers.append({k: v for k, v in record.items() if v is not None})
        if rng.random() < 0.8:
            unify.append(
                {
                    "records": [
                        {"customer_id": person.customer_id, "system_name": "demo_shop"},
                        {"email": person.email},
                    ]
                }
            )
    purchases, returns = [], []
    for number in range(int(profiles * 2.4)):
        person = rng.choice(crowd)
        lines: list[dict[str, Any]] = []
        for product in rng.sample(products, k=rng.randrange(1, 4)):
            quantity = rng.choice([1, 1, 1, 2, 3])
            discount = round(product["price"] * quantity * rng.choice([0, 0, 0.1, 0.2]), 2)
            lines.append(
                {
                    "product_reference": {"id": product["product_id"], "id_type": "product_id"},
                    "price_paid": round(product["price"] * quantity - discount, 2),
                    "quantity": quantity,
                    "full_price": product["price"],
                    "discount": discount,
                }
            )
        when = moment()
        channel = rng.choice(["ecommerce", "ecommerce", "physical"])
        purchase = {
            "link": {"customer_id": person.customer_id, "system_name": "demo_shop"},
            "action_at": when.isoformat(),
            "purchase_id": f"O-{200_000 + number}",
            "type": channel,
            "currency": "AUD",
            "store": {
                "store_id": "web" if channel == "ecommerce" else "st-kilda",
                "type": channel,
                "name": "Online store" if channel == "ecommerce" else "St Kilda",
            },
            "payment_types": [{"name": rng.choice(["visa", "mastercard", "paypal"])}],
            "products": lines,
        }
        purchases.append(purchase)
        if rng.random() < 0.07:
            line = lines[0]
            returns.append(
                {
                    "link": purchase["link"],
                    "action_at": (when + timedelta(days=rng.randrange(3, 30))).isoformat(),
                    "return_id": f"R-{200_000 + number}",
                    "type": channel,
                    "currency": "AUD",
                    "products": [
                        {
                            "product_reference": line["product_reference"],
                            "price_paid": -line["price_paid"],
                            "quantity": -line["quantity"],
                        }
                    ],
                    "custom_fields": {
                        "reason": rng.choice(["too small", "faulty", "changed mind"])
                    },
                }
            )
    ticket_records = [
        _ticket(number, rng.choice(crowd), moment() - timedelta(days=4), rng)
        for number in range(tickets)
    ]
    email_events: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in ("email_subscribe", "email_send", "email_bounce", "email_open", "email_click")
    }
    for person in crowd:
        list_id, list_name = rng.choice(LISTS)
        status = rng.choice(["subscribed"] * 4 + ["unsubscribed"])
        email_events["email_subscribe"].append(
            {
                "link": {"email": person.email},
                "action_at": moment().isoformat(),
                "email_id": f"sub-{person.number}",
                "list": {"id": list_id, "name": list_name},
                "status": status,
            }
        )
    for campaign_number, campaign in enumerate(CAMPAIGNS):
        sent_at = start + timedelta(days=30 + campaign_number * 65)
        for person in rng.sample(crowd, k=profiles // 2):
            base = {
                "link": {"email": person.email},
                "campaign_id": campaign,
                "list": {"id": LISTS[0][0], "name": LISTS[0][1]},
            }
            key = f"{campaign_number}-{person.number}"
            email_events["email_send"].append(
                base
                | {
                    "action_at": sent_at.isoformat(),
                    "email_id": f"send-{key}",
                    "subject": f"{campaign}: picked for you, {person.first}",
                }
            )
            if rng.random() < 0.02:
                email_events["email_bounce"].append(
                    base
                    | {
                        "action_at": (sent_at + timedelta(minutes=1)).isoformat(),
                        "email_id": f"bounce-{key}",
                    }
                )
            elif rng.random() < 0.35:
                opened = sent_at + timedelta(minutes=rng.randrange(5, 4000))
                email_events["email_open"].append(
                    base | {"action_at": opened.isoformat(), "email_id": f"open-{key}"}
                )
                if rng.random() < 0.3:
                    email_events["email_click"].append(
                        base
                        | {
                            "action_at": (opened + timedelta(minutes=1)).isoformat(),
                            "email_id": f"click-{key}",
                            "clicked_link": {
                                "name": "Shop now",
                                "url": f"https://demo-brand.example/{campaign.lower()}",
                            },
                        }
                    )
    sms_events: dict[str, list[dict[str, Any]]] = {
        "sms_subscribe": [],
        "sms_send": [],
        "sms_click": [],
    }
    for number, person in enumerate(rng.sample(crowd, k=profiles // 3)):
        when = moment()
        sms_events["sms_subscribe"].append(
            {
                "link": {"mobile": person.mobile},
                "action_at": (when - timedelta(days=rng.randrange(1, 90))).isoformat(),
                "sms_id": f"sms-sub-{number}",
                "list": {"id": "lst_sms", "name": "SMS offers"},
                "status": "list_subscribed",
            }
        )
        base = {"link": {"mobile": person.mobile}, "campaign_id": "Flash sale SMS"}
        sms_events["sms_send"].append(
            base
            | {
                "action_at": when.isoformat(),
                "sms_id": f"sms-{number}",
                "body": f"Hi {person.first}, 24 hours only: 20% off outerwear.",
            }
        )
        if rng.random() < 0.2:
            sms_events["sms_click"].append(
                base
                | {
                    "action_at": (when + timedelta(minutes=3)).isoformat(),
                    "sms_id": f"smc-{number}",
                }
            )
    # Load order makes the merges happen: the shop, email and SMS platforms each create
    # their own profiles first; tickets (email + mobile) and unify records then join them.
    return DemoData(
        {
            "category": categories,
            "product": products,
            "customer_record": customers,
            **email_events,
            **sms_events,
            "customer_support_ticket": ticket_records,
            "unify": unify,
            "purchase": purchases,
            "return": returns,
        }
    )


def _ticket(number: int, person: Person, created: datetime, rng: random.Random) -> dict[str, Any]:
    first_reply = rng.randrange(2, 300)
    duration = first_reply + rng.randrange(0, 4000)
    status = rng.choice(STATUSES)
    channel, channel_name = rng.choice(CHANNELS)
    tags = rng.sample(TAGS, k=rng.randrange(1, 4))
    link: dict[str, str] = {"email": person.email}
    if rng.random() < 0.25:
        link["mobile"] = person.mobile
    subject = SUBJECTS.get(tags[0], "Question about my order")
    ticket: dict[str, Any] = {
        "ticket_id": str(500_000 + number),
        "action_at": (created + timedelta(minutes=duration)).isoformat(),
        "link": link,
        "title": subject,
        "ticket_url": f"https://demo-brand.zendesk.com/agent/tickets/{500_000 + number}",
        "description": f"{person.first} writes: {subject.lower()}",
        "timeline": {
            "created_at": created.isoformat(),
            "duration": duration,
            "reply_time": rng.randrange(1, 120),
            "first_reply_time": first_reply,
        },
        "channel": {"type": [channel], "name": [channel_name]},
        "status": status,
        "tags": tags,
        "agents": rng.sample(AGENTS, k=rng.randrange(1, 3)),
        "satisfaction_score": rng.choice(SCORES) if status in {"solved", "closed"} else None,
    }
    if status in {"solved", "closed"}:
        ticket["timeline"]["closed_at"] = ticket["action_at"]
    return ticket


def anchor_day(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: the demo's dates move with the day it loads, not the second."""
    return datetime(now.year, now.month, now.day, tzinfo=UTC)
