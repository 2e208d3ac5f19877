"""The whole customer picture: CRM, commerce and engagement attributes, the history timeline,
and the compliance record types (forget, unify)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.helpers import Brand, auth, ticket


def order(purchase_id: str, at: str, *lines: tuple[float, int, str], currency: str = "AUD") -> Any:
    """A purchase of (price_paid, quantity, product_id) lines."""
    return {
        "link": {"email": "jane@fake.com"},
        "action_at": at,
        "purchase_id": purchase_id,
        "type": "ecommerce",
        "currency": currency,
        "products": [
            {
                "price_paid": price,
                "quantity": quantity,
                "product_reference": {"id": product_id, "id_type": "product_id"},
            }
            for price, quantity, product_id in lines
        ],
    }


def load_jane(brand: Brand) -> None:
    """The issue's scenario: a customer record, two purchases, an email open and a ticket."""
    brand.post(
        "customer_record",
        {
            "link": {"email": "jane@fake.com"},
            "first_name": "Jane",
            "last_name": "Doe",
            "mobile": "+61400000000",
            "city": "St Kilda",
            "custom_fields": {"loyalty_status": "gold"},
        },
    )
    brand.post(
        "purchase",
        order("o-1", "2024-01-10T09:00:00Z", (100.0, 2, "P1")),
        order("o-2", "2024-02-10T09:00:00Z", (50.0, 1, "P2"), (10.0, 1, "P1")),
    )
    brand.post(
        "email_open",
        {
            "link": {"email": "jane@fake.com"},
            "action_at": "2024-03-01T08:00:00Z",
            "email_id": "open-1",
            "campaign_id": "Winter Sale",
        },
    )
    event = ticket("T-1", link={"email": "jane@fake.com"})
    event["timeline"] = {"created_at": "2024-04-01T10:00:00Z"}
    event["action_at"] = "2024-04-01T11:00:00Z"
    brand.post("customer_support_ticket", event)


def test_profile_shows_crm_commerce_engagement_and_support(
    client: TestClient, admin_token: str
) -> None:
    brand = Brand(client, admin_token)
    brand.post(
        "product",
        {"product_id": "P1", "name": "Knit", "options": {"category": ["outerwear"]}},
        {"product_id": "P2", "name": "Chino", "options": {"category": ["bottoms"]}},
    )
    load_jane(brand)
    profile = brand.profile("email", "jane@fake.com")
    customer = profile["customer"]
    assert (customer["first_name"], customer["city"]) == ("Jane", "St Kilda")
    assert customer["loyalty"] == {"loyalty_status": "gold"}
    commerce = profile["commerce"]
    assert commerce["order_count"] == 2
    assert commerce["total_spend"] == {"AUD": 160.0}
    assert commerce["average_order_value"] == {"AUD": 80.0}
    assert commerce["first_order_date"] == "2024-01-10T09:00:00Z"
    assert commerce["last_order_date"] == "2024-02-10T09:00:00Z"
    assert commerce["top_categories"] == [
        {"name": "outerwear", "quantity": 3},
        {"name": "bottoms", "quantity": 1},
    ]
    assert profile["engagement"]["last_email_open_at"] == "2024-03-01T08:00:00Z"
    assert profile["engagement"]["emails_opened"] == 1
    assert profile["attributes"]["ticket_count"] == 1


def test_history_shows_what_was_bought_from_the_catalogue(
    client: TestClient, admin_token: str
) -> None:
    brand = Brand(client, admin_token)
    brand.post(
        "product",
        {
            "product_id": "P1",
            "name": "Rib Crew Knit",
            "url": "https://shop.example/knit",
            "images": ["https://shop.example/knit.jpg"],
        },
    )
    brand.post("purchase", order("o-1", "2024-01-10T09:00:00Z", (100.0, 2, "P1"), (5.0, 1, "P9")))
    profile_id = brand.profile("email", "jane@fake.com")["id"]
    [item] = client.get(f"/v1/profiles/{profile_id}/history", headers=auth(admin_token)).json()[
        "items"
    ]
    assert item["products"] == [
        {
            "id": "P1",
            "name": "Rib Crew Knit",
            "image": "https://shop.example/knit.jpg",
            "url": "https://shop.example/knit",
            "quantity": 2,
            "price_paid": 100.0,
        },
        {"id": "P9", "name": None, "image": None, "url": None, "quantity": 1, "price_paid": 5.0},
    ]


def test_top_categories_count_products_loaded_after_the_purchase(
    client: TestClient, admin_token: str
) -> None:
    brand = Brand(client, admin_token)
    brand.post("purchase", order("o-1", "2024-01-10T09:00:00Z", (10.0, 4, "P9")))
    assert brand.profile("email", "jane@fake.com")["commerce"]["top_categories"] == []
    brand.post("product", {"product_id": "P9", "options": {"category": ["footwear"]}})
    categories = brand.profile("email", "jane@fake.com")["commerce"]["top_categories"]
    assert categories == [{"name": "footwear", "quantity": 4}]


def test_history_is_one_stream_newest_first_with_summaries(
    client: TestClient, admin_token: str
) -> None:
    brand = Brand(client, admin_token)
    load_jane(brand)
    profile_id = brand.profile("email", "jane@fake.com")["id"]
    body = client.get(f"/v1/profiles/{profile_id}/history", headers=auth(admin_token)).json()
    assert [(item["type"], item["id"]) for item in body["items"]] == [
        ("customer_support_ticket", "T-1"),
        ("email_open", "open-1"),
        ("purchase", "o-2"),
        ("purchase", "o-1"),
    ]
    assert body["next_cursor"] is None
    purchase = body["items"][2]
    assert purchase["summary"] == "Purchase o-2 — 2 items, 60.00 AUD (ecommerce)"
    assert [p["id"] for p in purchase["products"]] == ["P2", "P1"]
    assert purchase["products"][0]["name"] is None, "no product dataset: ids only"
    assert body["items"][1]["products"] is None
    assert purchase["record"]["products"][0]["product_reference"]["id"] == "P2"
    assert body["items"][1]["summary"] == "Email opened: Winter Sale"
    assert body["items"][0]["summary"].startswith("Ticket T-1: Faulty seam")
    assert body["items"][0]["record"]["timeline"]["created_at"] == "2024-04-01T10:00:00Z"

    oldest = client.get(
        f"/v1/profiles/{profile_id}/history?order=oldest&type=purchase,email_open",
        headers=auth(admin_token),
    ).json()
    assert [item["id"] for item in oldest["items"]] == ["o-1", "o-2", "open-1"]


def test_history_pages_with_a_cursor_without_gaps_or_repeats(
    client: TestClient, admin_token: str
) -> None:
    brand = Brand(client, admin_token)
    # Equal timestamps across types: the cursor must still order them totally.
    same_time = "2024-05-01T00:00:00Z"
    brand.post("purchase", *(order(f"o-{i}", same_time, (1.0, 1, "P")) for i in range(7)))
    brand.post(
        "email_send",
        *(
            {"link": {"email": "jane@fake.com"}, "action_at": same_time, "email_id": f"s-{i}"}
            for i in range(5)
        ),
    )
    profile_id = brand.profile("email", "jane@fake.com")["id"]
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = client.get(
            f"/v1/profiles/{profile_id}/history", params=params, headers=auth(admin_token)
        ).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 12
    assert len(set(seen)) == 12


def test_history_refuses_unknown_types_and_bad_cursors(
    client: TestClient, admin_token: str
) -> None:
    brand = Brand(client, admin_token)
    brand.post("purchase", order("o-1", "2024-01-10T09:00:00Z", (1.0, 1, "P")))
    profile_id = brand.profile("email", "jane@fake.com")["id"]
    url = f"/v1/profiles/{profile_id}/history"
    bad_type = client.get(url, params={"type": "tweet"}, headers=auth(admin_token))
    assert bad_type.status_code == 422
    assert bad_type.json()["error"]["details"][0]["field"] == "type"
    bad_cursor = client.get(url, params={"cursor": "!!"}, headers=auth(admin_token))
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["error"]["details"][0]["field"] == "cursor"
    missing = client.get("/v1/profiles/prf_nobody/history", headers=auth(admin_token))
    assert missing.status_code == 404


def test_crm_precedence_most_recently_changed_record_wins_per_field(
    client: TestClient, admin_token: str, clock: FakeClock
) -> None:
    brand = Brand(client, admin_token)
    brand.post(
        "customer_record",
        {"link": {"email": "jane@fake.com"}, "first_name": "Jane", "city": "Perth"},
    )
    clock.advance(seconds=60)
    brand.post("unify", {"records": [{"email": "jane@fake.com"}, {"customer_id": "C-7"}]})
    brand.post(
        "customer_record",
        {"link": {"customer_id": "C-7"}, "first_name": "Janet", "custom_fields": {"vip": True}},
    )
    customer = brand.profile("email", "jane@fake.com")["customer"]
    assert customer["first_name"] == "Janet", "the newer record wins"
    assert customer["city"] == "Perth", "a field the newer record leaves out is kept"
    assert customer["custom_fields"] == {"vip": True}
    assert customer["record_count"] == 2


def test_unify_merges_profiles_with_the_ledger_and_recomputes_attributes(
    client: TestClient, admin_token: str
) -> None:
    brand = Brand(client, admin_token)
    brand.post("purchase", order("o-1", "2024-01-10T09:00:00Z", (10.0, 1, "P")))
    other = order("o-2", "2024-01-11T09:00:00Z", (30.0, 1, "P"))
    other["link"] = {"customer_id": "C-7", "system_name": "shop"}
    brand.post("purchase", other)
    body = brand.post(
        "unify",
        {"records": [{"email": "jane@fake.com"}, {"customer_id": "C-7", "system_name": "shop"}]},
    )
    assert body["updated"] == 1
    assert [merge["rule"] for merge in body["merges"]] == ["unify"]
    profile = brand.profile("email", "jane@fake.com")
    assert profile["commerce"]["order_count"] == 2
    assert profile["commerce"]["total_spend"] == {"AUD": 40.0}
    merges = client.get(f"/v1/profiles/{profile['id']}/merges", headers=auth(admin_token)).json()[
        "merges"
    ]
    assert merges[0]["rule"] == "unify"
    again = brand.post(
        "unify",
        {"records": [{"email": "jane@fake.com"}, {"customer_id": "C-7", "system_name": "shop"}]},
    )
    assert again["unchanged"] == 1


def test_forget_record_forgets_the_profile_and_keeps_the_person_out(
    client: TestClient, admin_token: str
) -> None:
    brand = Brand(client, admin_token)
    load_jane(brand)
    profile_id = brand.profile("email", "jane@fake.com")["id"]
    body = brand.post("forget", {"email": "Jane@Fake.com"}, {"link": {"mobile": "+15555550100"}})
    assert (body["updated"], body["created"]) == (1, 1), "one forgotten, one unknown suppressed"
    gone = client.get(f"/v1/profiles/{profile_id}", headers=auth(admin_token))
    assert gone.status_code == 404
    history = client.get(f"/v1/profiles/{profile_id}/history", headers=auth(admin_token))
    assert history.status_code == 404
    again = brand.post("purchase", order("o-9", "2024-06-01T00:00:00Z", (1.0, 1, "P")))
    assert again["rejections"][0]["errors"] == [{"field": "link", "reason": "suppressed"}]
    sms = brand.post(
        "sms_send",
        {"link": {"mobile": "+15555550100"}, "action_at": "2024-06-01T00:00:00Z", "sms_id": "s"},
    )
    assert sms["rejected"] == 1, "a link forgotten before carebase saw it stays out"
    assert brand.post("forget", {"email": "jane@fake.com"})["unchanged"] == 1


def test_a_ticket_that_merges_profiles_brings_every_attribute_family_along(
    client: TestClient, admin_token: str
) -> None:
    brand = Brand(client, admin_token)
    brand.post("purchase", order("o-1", "2024-01-10T09:00:00Z", (25.0, 1, "P")))
    brand.post(
        "sms_click",
        {"link": {"mobile": "+61491570006"}, "action_at": "2024-02-01T00:00:00Z", "sms_id": "c1"},
    )
    body = brand.post(
        "customer_support_ticket",
        ticket("T-9", link={"email": "jane@fake.com", "mobile": "+61491570006"}),
    )
    assert len(body["merges"]) == 1
    profile = brand.profile("mobile", "+61491570006")
    assert profile["id"] == brand.profile("email", "jane@fake.com")["id"]
    assert profile["commerce"]["total_spend"] == {"AUD": 25.0}
    assert profile["engagement"]["last_sms_click_at"] == "2024-02-01T00:00:00Z"
    assert profile["attributes"]["ticket_count"] == 1
