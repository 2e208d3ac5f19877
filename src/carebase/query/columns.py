# ruff: noqa: S608 - view SQL built from the code's own names, never from user input
"""The columns of the published views, derived from the code that defines the data.

customer_360 takes every attribute from `carebase.attributes.catalogue`, the links from
`carebase.identity.links.LINK_TYPES`, and adds the columns Amperity's Customer_360 queries
use; ticket_events takes the `tickets` table's columns; the other event views take the
top-level fields of their record types' published schemas (`carebase.recordtypes`). Adding
an attribute, a link type or an event type changes the views with no copy to edit here.

Every column holds one expression per engine: `sqlite` and `postgresql` text, written over
the aliases the view's FROM clause gives (`p` profiles, `s`/`c`/`e`/`k` the attribute
families, `t` tickets, `v` events).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from carebase.attributes import catalogue
from carebase.attributes.catalogue import Attribute
from carebase.identity.links import LINK_TYPES

# The types a column can have, with the type sqlglot checks queries against.
TEXT, INTEGER, NUMBER, TIMESTAMP, BOOLEAN, JSON = (
    "text",
    "integer",
    "number",
    "timestamp",
    "boolean",
    "json",
)
SQLGLOT_TYPES = {
    TEXT: "TEXT",
    INTEGER: "BIGINT",
    NUMBER: "DOUBLE",
    TIMESTAMP: "TIMESTAMPTZ",
    BOOLEAN: "BOOLEAN",
    JSON: "JSON",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a published view."""

    name: str
    type: str
    description: str
    sqlite: str
    postgresql: str

    def expression(self, dialect: str) -> str:
        """The column's SQL on one engine."""
        return self.sqlite if dialect == "sqlite" else self.postgresql


def same(name: str, type_: str, description: str, expression: str) -> Column:
    """A column with the same SQL on both engines."""
    return Column(name, type_, description, expression, expression)


# ---- customer_360 -------------------------------------------------------------------------

_FAMILY_ALIAS = {"support": "s", "commerce": "c", "engagement": "e", "customer": "k"}
_SCALAR_TYPES = {
    catalogue.STRING: TEXT,
    catalogue.INTEGER: INTEGER,
    catalogue.NUMBER: NUMBER,
    catalogue.TIMESTAMP: TIMESTAMP,
    catalogue.BOOLEAN: BOOLEAN,
    # Stored as text (YYYY-MM-DD), compared as text on both engines.
    catalogue.DATE: TEXT,
    # A satisfaction score is text or a number: shown as its scalar value.
    catalogue.STRING_OR_NUMBER: TEXT,
}
_EMPTY = {
    catalogue.STRING_LIST: "[]",
    catalogue.OBJECT_LIST: "[]",
    catalogue.OBJECT: "{}",
    catalogue.MONEY: "{}",
}
# Amperity's Customer_360 names whose meaning differs from the catalogue attribute of the
# same name: the catalogue's value is published under `customer_<name>` instead.
_AMPERITY_TAKES = frozenset({"email"})


def _money_expressions(attribute: Attribute) -> tuple[str, str]:
    """Per currency, rounded to cents, as `money()` / `average_order_value()` compute."""
    assert attribute.column is not None
    stored = f"c.{attribute.column}"
    if attribute.name == "average_order_value":
        orders = "c.orders_by_currency"
        sqlite = (
            f"(SELECT json_group_object(m.key, round(m.value / json_extract({orders}, "
            f"'$.\"' || m.key || '\"'), 2)) FROM json_each({stored}) AS m "
            f"WHERE json_extract({orders}, '$.\"' || m.key || '\"') > 0)"
        )
        postgresql = (
            f"(SELECT jsonb_object_agg(m.key, round(m.value::numeric / ({orders}->>m.key)"
            f"::numeric, 2)) FROM jsonb_each_text({stored}) AS m "
            f"WHERE ({orders}->>m.key)::numeric > 0)"
        )
    else:
        sqlite = (
            f"(SELECT json_group_object(m.key, round(m.value, 2)) FROM json_each({stored}) AS m)"
        )
        postgresql = (
            f"(SELECT jsonb_object_agg(m.key, round(m.value::numeric, 2)) "
            f"FROM jsonb_each_text({stored}) AS m)"
        )
    return sqlite, postgresql


def _top_categories() -> tuple[str, str]:
    """Up to 5 categories by quantity bought, as `commerce.top_categories` ranks them."""
    match = (
        "(ci.product_id = {id} AND {kind} = 'product_id') OR (ci.sku = {id} AND {kind} = 'sku') "
        "OR (ci.upc = {id} AND {kind} = 'upc')"
    )
    sqlite_match = match.format(
        id="substr(b.key, instr(b.key, ':') + 1)", kind="substr(b.key, 1, instr(b.key, ':') - 1)"
    )
    pg_match = match.format(id="split_part(b.key, ':', 2)", kind="split_part(b.key, ':', 1)")
    sqlite = (
        "(SELECT json_group_array(json_object('name', r.name, 'quantity', r.quantity)) FROM "
        "(SELECT g.value AS name, sum(b.value) AS quantity FROM json_each(c.products) AS b "
        f"JOIN catalog_items AS ci ON ci.record_type = 'product' AND ({sqlite_match}) "
        "JOIN json_each(ci.record, '$.options.category') AS g "
        "GROUP BY g.value ORDER BY quantity DESC, name LIMIT 5) AS r)"
    )
    postgresql = (
        "(SELECT jsonb_agg(jsonb_build_object('name', r.name, 'quantity', r.quantity) "
        "ORDER BY r.quantity DESC, r.name) FROM "
        "(SELECT g AS name, sum(b.value::bigint) AS quantity FROM jsonb_each_text(c.products) "
        f"AS b JOIN {{schema}}catalog_items AS ci ON ci.record_type = 'product' AND ({pg_match}) "
        "CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof("
        "ci.record->'options'->'category') = 'array' THEN ci.record->'options'->'category' "
        "ELSE '[]'::jsonb END) AS g GROUP BY g ORDER BY quantity DESC, name LIMIT 5) AS r)"
    )
    return sqlite, postgresql


def _subscriptions() -> tuple[str, str]:
    """As `engagement.subscriptions` lists them: by channel and list, without the stamp."""
    sqlite = (
        "(SELECT json_group_array(json_remove(x.value, '$.order')) FROM "
        "(SELECT value FROM json_each(e.subscriptions) ORDER BY key) AS x)"
    )
    postgresql = (
        "(SELECT jsonb_agg(x.value - 'order' ORDER BY x.key) FROM jsonb_each(e.subscriptions) AS x)"
    )
    return sqlite, postgresql


def _window(days: int) -> tuple[str, str]:
    sqlite = (
        "(SELECT count(*) FROM tickets AS w WHERE w.profile_id = p.id AND w.created_at >= "
        f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-{days} days'))"
    )
    postgresql = (
        "(SELECT count(*) FROM {schema}tickets AS w WHERE w.profile_id = p.id AND "
        f"w.created_at >= now() - interval '{days} days')"
    )
    return sqlite, postgresql


def _attribute_column(attribute: Attribute) -> Column:
    name = f"customer_{attribute.name}" if attribute.name in _AMPERITY_TAKES else attribute.name
    description = attribute.definition
    if attribute.type == catalogue.MONEY:
        sqlite, postgresql = _money_expressions(attribute)
    elif attribute.name == "subscriptions":
        sqlite, postgresql = _subscriptions()
    elif attribute.name == "top_categories":
        sqlite, postgresql = _top_categories()
    elif attribute.name.startswith("tickets_last_"):
        sqlite, postgresql = _window(int(attribute.name.split("_")[2]))
    else:
        assert attribute.column is not None, attribute.name
        stored = f"{_FAMILY_ALIAS[attribute.family]}.{attribute.column}"
        sqlite = postgresql = stored
        if attribute.path:
            sqlite = f"json_extract({stored}, '$.{'.'.join(attribute.path)}')"
            postgresql = f"({stored}->>'{attribute.path[0]}')::bigint"
        elif attribute.type == catalogue.STRING_OR_NUMBER:
            sqlite, postgresql = f"json_extract({stored}, '$')", f"({stored} #>> '{{}}')"
    if attribute.type in _EMPTY:
        empty = _EMPTY[attribute.type]
        sqlite = f"COALESCE({sqlite}, '{empty}')"
        postgresql = f"COALESCE({postgresql}, '{empty}'::jsonb)"
        return Column(name, JSON, description, sqlite, postgresql)
    if attribute.type == catalogue.INTEGER:
        sqlite, postgresql = f"COALESCE({sqlite}, 0)", f"COALESCE({postgresql}, 0)"
    return Column(name, _SCALAR_TYPES[attribute.type], description, sqlite, postgresql)


def _shown_links(where: str) -> str:
    return f"FROM {{schema}}profile_links AS l WHERE l.profile_id = p.id AND {where}"


def _link_columns() -> Iterator[Column]:
    # As Profile Read lists them: links as given (not derived hashes), by type, system, value.
    order = "ORDER BY l.link_type, l.system_name, l.value"
    shown = "l.derived = 0"
    sqlite_links = (
        "(SELECT json_group_array(json_object('type', x.link_type, 'value', x.value, "
        "'system_name', NULLIF(x.system_name, ''))) FROM (SELECT l.link_type, l.value, "
        f"l.system_name {_shown_links(shown)} {order}) AS x)"
    ).replace("{schema}", "")
    pg_links = (
        "COALESCE((SELECT jsonb_agg(jsonb_build_object('type', l.link_type, 'value', l.value, "
        f"'system_name', NULLIF(l.system_name, '')) {order}) "
        f"{_shown_links('NOT l.derived')}), '[]'::jsonb)"
    )
    yield Column(
        "links",
        JSON,
        "The profile's links as Profile Read lists them: `{type, value, system_name}`.",
        sqlite_links,
        pg_links,
    )
    for link_type in LINK_TYPES:
        pick = f"l.link_type = '{link_type}'"
        first = "ORDER BY l.system_name, l.value LIMIT 1)"
        yield Column(
            f"primary_{link_type}",
            TEXT,
            f"The profile's first {link_type} link (by system name, then value), as given.",
            f"(SELECT l.value {_shown_links(f'{pick} AND {shown}')} {first}".replace(
                "{schema}", ""
            ),
            f"(SELECT l.value {_shown_links(f'{pick} AND NOT l.derived')} {first}",
        )


def _amperity_columns() -> Iterator[Column]:
    full_name = "NULLIF(TRIM(COALESCE(k.first_name, '') || ' ' || COALESCE(k.last_name, '')), '')"
    yield same("full_name", TEXT, "First and last name, space-separated.", full_name)
    yield same(
        "email",
        TEXT,
        "The customer record's email, or else the profile's primary email link.",
        "COALESCE(k.email, primary_email)",
    )
    yield same(
        "phone",
        TEXT,
        "The customer record's mobile, or else the profile's primary mobile link (E.164).",
        "COALESCE(k.mobile, primary_mobile)",
    )
    yield same("address", TEXT, "The first address line (`address_1`).", "k.address_1")
    yield same("address2", TEXT, "The second address line (`address_2`).", "k.address_2")
    yield same("postal", TEXT, "The postcode, or else the zip.", "COALESCE(k.postcode, k.zip)")


def customer_360_columns() -> tuple[Column, ...]:
    """profile_id, the links, every catalogue attribute, the Amperity columns."""
    links = list(_link_columns())
    by_name = {column.name: column for column in links}
    amperity = []
    for column in _amperity_columns():
        # The Amperity columns read the link columns: inline their expressions.
        sqlite, postgresql = column.sqlite, column.postgresql
        for link in ("primary_email", "primary_mobile"):
            sqlite = sqlite.replace(link, by_name[link].sqlite)
            postgresql = postgresql.replace(link, by_name[link].postgresql)
        amperity.append(Column(column.name, column.type, column.description, sqlite, postgresql))
    return (
        same("profile_id", TEXT, "The profile's id (`prf_…`).", "p.id"),
        same("created_at", TIMESTAMP, "When the profile was created.", "p.created_at"),
        same("updated_at", TIMESTAMP, "When the profile last changed.", "p.updated_at"),
        *links,
        *(_attribute_column(attribute) for attribute in catalogue.catalogue()),
        *amperity,
    )


def customer_spend_columns() -> tuple[Column, ...]:
    """One row per profile and currency: the money attributes as plain numbers."""

    def amount(column: str) -> tuple[str, str]:
        return (
            f"round(COALESCE(json_extract(c.{column}, '$.\"' || m.key || '\"'), 0), 2)",
            f"round(COALESCE((c.{column}->>m.key)::numeric, 0), 2)",
        )

    orders_sqlite = "COALESCE(json_extract(c.orders_by_currency, '$.\"' || m.key || '\"'), 0)"
    orders_pg = "COALESCE((c.orders_by_currency->>m.key)::bigint, 0)"
    spend_sqlite, spend_pg = amount("spend")
    returned_sqlite, returned_pg = amount("returned")
    return (
        same("profile_id", TEXT, "The profile's id.", "c.profile_id"),
        same("currency", TEXT, "Upper-case ISO 4217 code, or `unspecified`.", "m.key"),
        Column("total_spend", NUMBER, "total_spend in this currency.", spend_sqlite, spend_pg),
        Column("order_count", INTEGER, "Orders in this currency.", orders_sqlite, orders_pg),
        Column(
            "average_order_value",
            NUMBER,
            "average_order_value in this currency (null without orders in it).",
            f"round({spend_sqlite} / NULLIF({orders_sqlite}, 0), 2)",
            f"round({spend_pg} / NULLIF({orders_pg}, 0), 2)",
        ),
        Column(
            "returned_value",
            NUMBER,
            "returned_value in this currency.",
            returned_sqlite,
            returned_pg,
        ),
    )
