from __future__ import annotations

import phonenumbers
import pytest

from harness.pii import MIN_PHONE_DIGITS, find, iban_valid, luhn, region_from_lang


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("mail jane.doe+x@example.co.uk now", "email", "jane.doe+x@example.co.uk"),
        ("<JANE@ACME-MAIL.COM>", "email", "JANE@ACME-MAIL.COM"),
        ("card 4111 1111 1111 1111 ok", "card", "4111 1111 1111 1111"),
        ("4111-1111-1111-1111", "card", "4111-1111-1111-1111"),
        ("mc 5500005555555559", "card", "5500005555555559"),
        ("amex 3782 822463 10005", "card", "3782 822463 10005"),
        ("call +33 6 12 34 56 78", "phone", "+33 6 12 34 56 78"),
        ("+1 (415) 555-2671", "phone", "+1 (415) 555-2671"),
        ("+44 20 7946 0958", "phone", "+44 20 7946 0958"),
        ("(415) 555-2671", "phone", "(415) 555-2671"),
        ("415.555.2671", "phone", "415.555.2671"),
        ("IBAN DE89 3704 0044 0532 0130 00", "iban", "DE89 3704 0044 0532 0130 00"),
        ("GB82WEST12345698765432", "iban", "GB82WEST12345698765432"),
        ("ssn 123-45-6789", "ssn", "123-45-6789"),
        ("ssn 123 45 6789", "ssn", "123 45 6789"),
        ("ssn 123.45.6789", "ssn", "123.45.6789"),
        ("DE89-3704-0044-0532-0130-00", "iban", "DE89-3704-0044-0532-0130-00"),
        ("maestro 6759 6498 2643 8453", "card", "6759 6498 2643 8453"),
        ("uatp 1354 123456 12340", "card", "1354 123456 12340"),
        ("mir 2200 0000 0000 0004", "card", "2200 0000 0000 0004"),
        ("+55 11 96123-4567", "phone", "+55 11 96123-4567"),
        ("CPF 123.456.789-09", "national_id", "123.456.789-09"),
        ("DNI 12345678Z", "national_id", "12345678Z"),
        ("tel:+33612345678", "phone", "+33612345678"),
        ("call +14155552671 now", "phone", "+14155552671"),
        ("IBAN DE89370400440532013000 EUR", "iban", "DE89370400440532013000"),
        ("DE89 3704 0044 0532 0130 00 EUR", "iban", "DE89 3704 0044 0532 0130 00"),
        ("iban de89 3704 0044 0532 0130 00", "iban", "de89 3704 0044 0532 0130 00"),
        ("gb82west12345698765432", "iban", "gb82west12345698765432"),
    ],
)
def test_each_family_is_found(text: str, kind: str, value: str) -> None:
    assert [(m.kind, m.value) for m in find(text)] == [(kind, value)]
    [match] = find(text)
    assert text[match.start : match.end] == value


@pytest.mark.parametrize(
    "text",
    [
        "order ORD-2024-000123",
        "order #100045872",
        "date 2024-05-17",
        "2024-05-17T10:00:00Z",
        "2026-11-26 23:25:44",
        "17/05/2024",
        "price 1 234,56 EUR",
        "$1,234,567.89",
        "v1.2.3",
        "version 10.0.19041.1",
        "ts 1795736528285",
        "epoch 1795736528.285",
        "192.168.1.1",
        "3.14159265358979",
        "tel 12345",
        "4111111111111112",  # fails Luhn
        "1234 5678 9012 3456",  # no issuer uses this prefix
        "000-12-3456",  # never issued
        "DE89 3704 0044 0532 0130 01",  # fails mod 97
        "x@y",
        "ISBN 978-3-16-148410-0",
        "SKU 4006381333931",
        "Invoice INV-555-123-4567",  # a phone-shaped part of an id
        "order ORD555-123-4567",
        "build v1.555.123.4567",
        "Hash 4111111111111111a",  # digits glued to letters: a word, not a card
        "token tok_4111111111111111",
        "DE89370400440532013000PAID",  # one word: not split into an IBAN and a suffix
        "score +1234567",  # too short for E.164
        "commit de45a1b2c3d4e5f6a7b8c9",  # hex in an IBAN's shape, wrong checksum or length
        "(555) 123-4567",  # area code 555 is not assigned: the fictional number of films
        "placeholder you@example.com",  # RFC 2606/6761 reserved domains: no one's address
        "x@foo.test",
        "dev@app.localhost",
        "DE88-3704-0044-0532-0130-00",  # a broken IBAN holds no card or phone either
        "07.03.2024",  # a German date: phonenumbers alone calls it a valid DE number
        "ISBN 3-8218-2341-0",
        "Chrome/124.0.6367.201",
    ],
)
def test_look_alikes_are_not_pii(text: str) -> None:
    assert find(text) == []


def test_several_matches_in_order_without_overlap() -> None:
    text = "Jane <jane@acme-mail.com>, card 4111 1111 1111 1111, phone +33 6 12 34 56 78."
    assert [m.kind for m in find(text)] == ["email", "card", "phone"]


def test_an_iban_after_an_iban_shaped_word_and_two_in_a_row_are_found() -> None:
    text = "ref AB12 DE89 3704 0044 0532 0130 00 GB82 WEST 1234 5698 7654 32 BIC COBADEFFXXX"
    assert [m.value for m in find(text)] == [
        "DE89 3704 0044 0532 0130 00",
        "GB82 WEST 1234 5698 7654 32",
    ]


def test_checksums() -> None:
    assert luhn("4111111111111111") and not luhn("4111111111111112")
    assert iban_valid("FR14 2004 1010 0505 0001 3M02 606")
    assert not iban_valid("FR14 2004 1010 0505 0001 3M02 607")
    assert iban_valid("fr14 2004 1010 0505 0001 3m02 606")
    # Valid mod 97, but one character short of France's 27, or no IBAN country at all.
    assert not iban_valid("FR8620041010050500013M0260")
    assert not iban_valid("ZZ22370400440532013000")


@pytest.mark.parametrize("region", ["US", "DE", "IT", "IN", "BR"])
def test_look_alikes_are_not_pii_in_any_region(region: str) -> None:
    for text in ("07.03.2024", "INV-973721300", "ISBN 3-8218-2341-0", "35.6762° N"):
        assert find(text, region) == [], (text, region)


def test_national_formats_need_the_page_region() -> None:
    assert find("06 12 34 56 78") == []  # not a US number
    assert [m.value for m in find("appelez le 06 12 34 56 78", "FR")] == ["06 12 34 56 78"]
    assert [m.value for m in find("03-1234-5678", "JP")] == ["03-1234-5678"]


def test_region_from_lang() -> None:
    assert region_from_lang("pt-BR") == "BR"
    assert region_from_lang("zh-Hant-TW") == "TW"
    assert region_from_lang("en_GB") == "GB"
    assert region_from_lang("fr") is None
    assert region_from_lang("es-419") is None
    assert region_from_lang("") is None and region_from_lang(None) is None


def test_no_region_has_a_phone_number_shorter_than_the_matcher_prefilter() -> None:
    lengths: list[int] = []
    for region in phonenumbers.SUPPORTED_REGIONS:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        assert metadata is not None and metadata.general_desc is not None
        lengths += metadata.general_desc.possible_length
    shortest = min(lengths)
    assert shortest == MIN_PHONE_DIGITS
