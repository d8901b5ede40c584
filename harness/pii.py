"""PII detectors: emails, payment cards, phone numbers, IBANs, US SSNs, national ids.

The harness's own detector, independent of any recorder's, used to find PII on a live page that
a scenario did not declare. Grounded in the reference libraries (docs/pii.md has the table):

- phone numbers: phonenumbers (libphonenumber) PhoneNumberMatcher, Leniency.STRICT_GROUPING
  (valid, and grouped as the region formats numbers or not grouped at all: "2024-000123" is a
  valid US number at Leniency.VALID, but no one writes one so), with the page's region for
  national formats;
- IBANs: python-stdnum's stdnum.iban (SWIFT registry BBAN formats, mod 97, national checks);
- cards: stdnum.luhn, with our own issuer table (stdnum has none);
- US SSNs: stdnum.us.ssn; BR CPF, ES DNI, IT codice fiscale: stdnum.br.cpf, stdnum.es.dni,
  stdnum.it.codicefiscale (formats that text does not confuse with anything else).

Our own rules, where no library decides: candidate shapes in running text (the regexes below),
emails (with the RFC 2606/6761 reserved domains excluded: example addresses are no one's data),
and the look-alike filters phonenumbers lacks: a date, a part of an id or version, an ISBN, a
number inside an IBAN-shaped run is not a phone number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from stdnum import iban as std_iban
from stdnum import luhn as std_luhn
from stdnum.br import cpf
from stdnum.es import dni
from stdnum.it import codicefiscale
from stdnum.us import ssn as std_ssn

DEFAULT_REGION = "US"


@dataclass(frozen=True)
class Match:
    kind: str  # email | card | phone | iban | ssn | national_id
    value: str
    start: int
    end: int


# Families as audits report them, in the order reports list them.
FAMILIES = ("email", "phone", "card", "iban", "ssn", "national_id")

EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b"
)
# RFC 2606 second-level names and RFC 2606/6761 top-level names: reserved for examples, tests
# and documentation, never anyone's mailbox.
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = ("test", "example", "invalid", "localhost")
# 12-19 digits (Maestro starts at 12), optionally grouped by single spaces or dashes. Digits
# glued to a letter ("4111111111111111a", "tok_4111...") are part of a word, not a card.
CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){11,18}(?![\w-])")
# Country code, check digits, then letters and digits, compact or grouped by spaces or dashes,
# in either case. A candidate may run into the next word ("... 0130 00 EUR"): _ibans() drops
# trailing groups until the checksum holds. A word glued to it ("...3000PAID") makes one word,
# which is not an IBAN, as digits glued to letters are not a card.
IBAN = re.compile(r"(?<![\w-])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,30}(?![\w-])")
# Area, group, serial with one separator used throughout: dashes, spaces or dots.
SSN = re.compile(r"(?<![\w.+-])(\d{3})([- .])(\d{2})\2(\d{4})(?![\w-]|\.\d)")
NATIONAL_IDS = (
    (re.compile(r"(?<![\w.-])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\w-]|\.\d)"), cpf.is_valid),
    (re.compile(r"(?<![\w-])\d{8}-?[A-Za-z](?![\w-])"), dni.is_valid),
    (
        re.compile(r"(?<![\w-])[A-Za-z]{6}\d{2}[A-Za-z]\d{2}[A-Za-z]\d{3}[A-Za-z](?![\w-])"),
        codicefiscale.is_valid,
    ),
)
# Every family needs a digit (an email an "@").
MAYBE_PII = re.compile(r"[\d@]")
# IBAN length of every country of the SWIFT IBAN registry, as recorder/src/record/pii.ts holds
# it; validation uses stdnum's registry (the same 89 countries, tests/test_pii_corpus.py).
IBAN_COUNTRIES = (
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27"
    " DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28"
    " IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22"
    " MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24"
    " SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30"
)
IBAN_LENGTHS = {entry[:2]: int(entry[2:]) for entry in IBAN_COUNTRIES.split()}

# Issuer ranges and lengths, our own table: python-stdnum has Luhn but no card networks. From
# each network's published BIN ranges (as collected on Wikipedia's "Payment card number").
# (first prefix, last prefix, lengths); a prefix covers every number starting with it.
CARD_RANGES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("4", "4", (13, 16, 19)),  # Visa
    ("51", "55", (16,)),  # Mastercard
    ("2221", "2720", (16,)),  # Mastercard 2-series
    ("34", "34", (15,)),  # Amex
    ("37", "37", (15,)),
    ("6011", "6011", (16, 17, 18, 19)),  # Discover
    ("644", "649", (16, 17, 18, 19)),
    ("65", "65", (16, 17, 18, 19)),  # Discover, RuPay 652
    ("3528", "3589", (16, 17, 18, 19)),  # JCB
    ("300", "305", (14, 15, 16, 17, 18, 19)),  # Diners Club International
    ("3095", "3095", (14, 15, 16, 17, 18, 19)),
    ("36", "36", (14, 15, 16, 17, 18, 19)),
    ("38", "39", (14, 15, 16, 17, 18, 19)),
    ("5018", "5018", tuple(range(12, 20))),  # Maestro
    ("5020", "5020", tuple(range(12, 20))),
    ("5038", "5038", tuple(range(12, 20))),
    ("5893", "5893", tuple(range(12, 20))),
    ("6304", "6304", tuple(range(12, 20))),
    ("6759", "6759", tuple(range(12, 20))),  # Maestro UK
    ("6761", "6763", tuple(range(12, 20))),
    ("676770", "676774", tuple(range(12, 20))),
    ("62", "62", (16, 17, 18, 19)),  # UnionPay
    ("60", "60", (16,)),  # RuPay
    ("81", "82", (16,)),
    ("508", "508", (16,)),
    ("353", "353", (16,)),
    ("356", "356", (16,)),
    ("2200", "2204", (16, 17, 18, 19)),  # Mir
    ("1", "1", (15,)),  # UATP
)

# A phone candidate glued to an id or a version ("INV-973721300", "Chrome/124.0.6367.201",
# "v1.555.123.4567"): a word character, or one joined to it by - . / _ #.
_GLUED_BEFORE = re.compile(r"(?:\w|\w[-./_#]|[+#])$")
_GLUED_AFTER = re.compile(r"^(?:\w|[-./_][\w]|[°%])")
_ISBN_BEFORE = re.compile(r"ISBN(?:-1[03])?:?\s*$", re.IGNORECASE)
# The shortest national number of any region's numbering plan (phonenumbers metadata, general
# possible lengths: AT, DE, NU...; tests/test_pii.py checks it).
MIN_PHONE_DIGITS = 4
_DIGIT = re.compile(r"\d")
# "+992 372 12 3456": digits after a country code are a phone number's, not an SSN.
_COUNTRY_CODE_BEFORE = re.compile(r"\+\d{1,3}[ .-]?$")
_DATE = re.compile(r"^(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})$")


def luhn(digits: str) -> bool:
    return std_luhn.is_valid(digits)


def iban_valid(text: str) -> bool:
    """A valid IBAN (stdnum: registry country, BBAN format, mod 97, national check digits)."""
    compact = re.sub(r"[ -]", "", text).upper()
    return compact.isalnum() and std_iban.is_valid(compact)


def _iban_shaped(text: str) -> bool:
    """An IBAN country's code and length: an account number, valid or not, never a phone."""
    compact = re.sub(r"[ -]", "", text).upper()
    return IBAN_LENGTHS.get(compact[:2]) == len(compact)


def card_brand(digits: str) -> bool:
    """Whether a network issues numbers of this prefix and length."""
    return any(
        len(digits) in lengths and first <= digits[: len(first)] <= last
        for first, last, lengths in CARD_RANGES
    )


def reserved_email(address: str) -> bool:
    domain = address.rsplit("@", 1)[-1].lower().rstrip(".")
    return domain.rsplit(".", 1)[-1] in RESERVED_TLDS or any(
        domain == d or domain.endswith("." + d) for d in RESERVED_DOMAINS
    )


def region_from_lang(lang: str | None) -> str | None:
    """The region of an <html lang> tag ("pt-BR" -> "BR", "zh-Hant-TW" -> "TW"), or None when it
    names none ("fr", "es-419") or one phonenumbers does not know."""
    for subtag in (lang or "").replace("_", "-").split("-")[1:]:
        if len(subtag) == 2 and subtag.isalpha():
            region = subtag.upper()
            return region if region in phonenumbers.SUPPORTED_REGIONS else None
    return None


def _ibans(text: str) -> list[Match]:
    """IBAN candidates with trailing groups dropped until one checks out. After a candidate
    with no valid prefix the search goes on from its next character, not its end, so an IBAN
    that follows an IBAN-shaped word ("REF AB12 DE89 ...") is still found."""
    found: list[Match] = []
    at = 0
    while m := IBAN.search(text, at):
        candidate = m.group()
        while not iban_valid(candidate) and re.search(r"[ -]", candidate):
            candidate = re.split(r"[ -](?=[^ -]*$)", candidate)[0]
        if iban_valid(candidate):
            found.append(Match("iban", candidate, m.start(), m.start() + len(candidate)))
            at = m.start() + len(candidate)
        else:
            at = m.start() + 1
    return found


def _account_shapes(text: str) -> list[tuple[int, int]]:
    """Spans of IBAN-shaped runs (a country's code and length) that are not valid IBANs: a
    mistyped or example account number, in which no other family is looked for."""
    spans: list[tuple[int, int]] = []
    for m in IBAN.finditer(text):
        candidate = m.group()
        while candidate and not _iban_shaped(candidate) and re.search(r"[ -]", candidate):
            candidate = re.split(r"[ -](?=[^ -]*$)", candidate)[0]
        if _iban_shaped(candidate) and not iban_valid(candidate):
            spans.append((m.start(), m.start() + len(candidate)))
    return spans


def _is_date(raw: str) -> bool:
    """A day, month and year in any order locales write them (07.03.2024, 2024-03-07, 3/7/24)."""
    m = _DATE.match(raw)
    if not m:
        return False
    a, b, c = int(m.group(1)), int(m.group(3)), int(m.group(4))
    if len(m.group(1)) == 4:
        return 1 <= b <= 12 and 1 <= c <= 31
    if len(m.group(4)) not in (2, 4):
        return False
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)


def _phones(text: str, region: str) -> list[Match]:
    found: list[Match] = []
    if len(_DIGIT.findall(text)) < MIN_PHONE_DIGITS:
        return found  # "Page 4 of 12": the matcher is slow, and no number is this short
    for m in phonenumbers.PhoneNumberMatcher(text, region, phonenumbers.Leniency.STRICT_GROUPING):
        before, after = text[: m.start], text[m.end :]
        if _GLUED_BEFORE.search(before) or _GLUED_AFTER.search(after):
            continue  # part of an id, a version, a decimal number, a measurement
        if _ISBN_BEFORE.search(before) or _is_date(m.raw_string):
            continue
        found.append(Match("phone", m.raw_string, m.start, m.end))
    return found


def find(text: str, region: str | None = None) -> list[Match]:
    """Every PII match in `text`, in order; overlapping matches keep the earliest, longest,
    and a phone number gives way to any checksum-validated family. `region` is the page's
    (national phone formats), US when None."""
    if not MAYBE_PII.search(text):
        return []  # most text holds neither a digit nor an "@": nothing to look for
    found: list[Match] = [
        Match("email", m.group(), m.start(), m.end())
        for m in EMAIL.finditer(text)
        if not reserved_email(m.group())
    ]
    found += _ibans(text)
    for pattern, valid in NATIONAL_IDS:
        found += [
            Match("national_id", m.group(), m.start(), m.end())
            for m in pattern.finditer(text)
            if valid(m.group())
        ]
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if luhn(digits) and card_brand(digits):
            found.append(Match("card", m.group(), m.start(), m.end()))
    found += [
        Match("ssn", m.group(), m.start(), m.end())
        for m in SSN.finditer(text)
        if std_ssn.is_valid(m.group(1) + m.group(3) + m.group(4))
        and not _COUNTRY_CODE_BEFORE.search(text, 0, m.start())
    ]
    kept = _without_overlaps(found)
    accounts = _account_shapes(text)
    kept = [m for m in kept if not _overlaps(m, accounts) or m.kind == "iban"]
    taken = [(m.start, m.end) for m in kept] + accounts
    region = region or DEFAULT_REGION
    phones = _phones(text, region)
    if region != "US":
        # SSNs are US numbers: outside the US, a spaced or dotted one that is a valid phone
        # number of the page's region ("372 12 3456" in TJ) is that phone number.
        spans = {(m.start, m.end) for m in phones}
        kept = [
            m
            for m in kept
            if not (m.kind == "ssn" and "-" not in m.value and (m.start, m.end) in spans)
        ]
        taken = [(m.start, m.end) for m in kept] + accounts
    phones = [m for m in phones if not _overlaps(m, taken)]
    return sorted(kept + phones, key=lambda m: m.start)


def _without_overlaps(found: list[Match]) -> list[Match]:
    found = sorted(found, key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[Match] = []
    for match in found:
        if not kept or match.start >= kept[-1].end:
            kept.append(match)
    return kept


def _overlaps(match: Match, spans: list[tuple[int, int]]) -> bool:
    return any(match.start < end and start < match.end for start, end in spans)
