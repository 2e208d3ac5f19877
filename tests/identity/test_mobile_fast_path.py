"""The `+digits` fast path against phonenumbers itself: on every input it either declines
(None) or gives exactly what parse, is_valid_number and the E.164 format give."""

from __future__ import annotations

import random

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType

from carebase.identity.links import normalise_mobile, plus_digits_e164

TYPES = [value for name, value in vars(PhoneNumberType).items() if name.isupper()]


def _phonenumbers(text: str) -> str | None:
    """What normalise_mobile's loop gets from phonenumbers for one `+` candidate."""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _examples() -> list[str]:
    """Every region's example numbers, of every type, in E.164."""
    found = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.add(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            found.add(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    return sorted(found)


def _variants(rng: random.Random, examples: list[str]) -> list[str]:
    """Examples, and near misses: a digit more, a digit less, a digit changed, a national
    prefix or a zero put after the country code, random digits."""
    out = list(examples)
    for text in examples:
        number = phonenumbers.parse(text, None)
        code, national = str(number.country_code), text[1 + len(str(number.country_code)) :]
        region = phonenumbers.region_code_for_country_code(number.country_code)
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(number.country_code, region)
        prefix = (metadata.national_prefix if metadata else None) or "0"
        position = rng.randrange(len(national))
        digit = str(rng.randrange(10))
        out += [
            text + digit,
            text[:-1],
            "+" + code + national[:position] + digit + national[position + 1 :],
            "+" + code + prefix + national,
            "+" + code + "0" + national,
            "+" + code + "1" + national,
            "+" + code + "8" + national,
        ]
    for _ in range(4000):
        length = rng.randrange(2, 19)
        out.append("+" + "".join(str(rng.randrange(10)) for _ in range(length)))
    return out


def test_the_fast_path_declines_or_agrees_with_phonenumbers() -> None:
    examples = _examples()
    assert len(examples) > 800
    taken = 0
    for text in _variants(random.Random(5), examples):
        fast = plus_digits_e164(text)
        if fast is not None:
            assert fast == _phonenumbers(text), text
            taken += 1
    assert taken > 1000  # most valid numbers do take it


def test_the_bench_mobiles_take_the_fast_path() -> None:
    for customer in range(0, 3000, 3):
        text = f"+6140{customer % 10_000_000:07d}"
        assert plus_digits_e164(text) == _phonenumbers(text) == text


def test_normalise_mobile_is_unchanged_for_other_forms() -> None:
    assert normalise_mobile("0404 000 000", "AU") == "+61404000000"
    assert normalise_mobile("61491570006", None) == "+61491570006"
    assert normalise_mobile("0061 491 570 006", None) == "+61491570006"
    assert normalise_mobile("+61 0491 570 006", None) == _phonenumbers("+610491570006")
    assert normalise_mobile("+1 1 212 555 0123", None) == _phonenumbers("+112125550123")
    assert normalise_mobile("+999", None) is None
