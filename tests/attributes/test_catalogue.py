"""The catalogue: documented in docs/attributes.md, the shape of Profile Read, stored where
it says."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from carebase.attributes import catalogue
from carebase.attributes.read import SECTIONS
from carebase.attributes.service import FAMILIES
from carebase.models.base import table
from carebase.profiles.schemas import CommerceOut, CustomerOut, EngagementOut, ProfileOut

DOCS = Path(__file__).parents[2] / "docs" / "attributes.md"
_ROW = re.compile(r"^\| `(?P<name>\w+)` \| (?P<family>\w+) \| [^|]+ \| [^|]+ \| (?P<text>.+) \|$")


def test_every_attribute_is_documented_with_its_definition_and_nothing_else() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = {
        match["name"]: (match["family"], match["text"])
        for line in text.splitlines()
        if (match := _ROW.match(line))
    }
    expected = {a.name: (a.family, a.definition) for a in catalogue.catalogue()}
    assert documented == expected
    assert catalogue.markdown_table() in text, "regenerate: python -m carebase.attributes.catalogue"


def test_names_are_unique_and_definitions_one_sentence() -> None:
    attributes = catalogue.catalogue()
    assert len({a.name for a in attributes}) == len(attributes)
    for attribute in attributes:
        assert attribute.definition.endswith("."), attribute.name
        assert attribute.family in {family.name for family in FAMILIES}


def test_sections_are_exactly_the_profile_read_shapes() -> None:
    fields = ProfileOut.model_fields
    for family in FAMILIES:
        section = SECTIONS.get(family.name, family.name)
        schema = fields[section].annotation
        assert isinstance(schema, type)
        assert issubclass(schema, BaseModel)
        names = set(schema.model_fields) - {"computed_at"}
        assert names == {a.name for a in catalogue.of_family(family.name)}, family.name
    assert {CommerceOut, CustomerOut, EngagementOut} <= {f.annotation for f in fields.values()}


def test_stored_attributes_name_real_columns() -> None:
    tables = {family.name: table(family.model) for family in FAMILIES}
    for attribute in catalogue.catalogue():
        if attribute.column is not None:
            assert attribute.column in tables[attribute.family].c, attribute.name
