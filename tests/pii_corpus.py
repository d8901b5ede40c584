"""A PII corpus generated from the reference libraries, not written by hand (issue 12).

Phone numbers: every region `phonenumbers` knows, its example mobile and fixed-line numbers in
E.164, INTERNATIONAL and NATIONAL format. IBANs: every country of python-stdnum's IBAN registry
(stdnum/iban.dat), an example BBAN of the registry's structure with computed check digits, in
compact, spaced (groups of 4) and dashed form, plus the same with one check digit changed
("iban_broken": no detector may call them IBANs). Cards: Luhn-valid numbers in each network's
issuer ranges and lengths (our table, NETWORKS: stdnum has Luhn but no issuer table). SSNs:
stdnum-valid area/group/serial with dashes, spaces and dots. National ids: stdnum's check digits
over seeded digits (BR CPF, ES DNI, IT codice fiscale).

Deterministic: every random choice comes from a Random seeded per family, regions and countries
are sorted. `corpus()` and `lookalikes()` return the same lists on every call and machine (for a
given phonenumbers/stdnum version).

Look-alikes must not fire in any detector, in any of LOOKALIKE_REGIONS. None is dropped because
a library fires on it: phonenumbers alone (Leniency.VALID) calls "07.03.2024" a valid DE and IT
number, "INV-973721300" holds a valid ES one, an ISBN-10 is a valid number in several regions.
A page shows these as a date, an id, an ISBN: the detector's own rules (docs/pii.md) reject
them. Tracking numbers are the shapes that hold letters (UPS 1Z, UPU S10, DHL GM): an all-digit
FedEx number is a valid phone number in some region and text alone cannot tell them apart.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from stdnum import ean, isbn, luhn, numdb
from stdnum import iban as std_iban
from stdnum.br import cpf
from stdnum.es import dni
from stdnum.it import codicefiscale
from stdnum.us import ssn as std_ssn


@dataclass(frozen=True)
class Case:
    family: (
        str  # phone_international | phone_national | iban | iban_broken | card | ssn | national_id
    )
    text: str  # the value as a page would show it
    region: str | None  # the region whose national format it is (phone_national), else None
    note: str  # e.g. "DE mobile NATIONAL", "FR iban dashed"


# Families a detector must find; "iban_broken" it must not find (as an IBAN or anything else).
MUST_FIND = ("phone_international", "phone_national", "iban", "card", "ssn", "national_id")
MUST_NOT_FIND = ("iban_broken",)

# Regions the look-alikes are checked in (the default and the regions of the corpus's sites).
LOOKALIKE_REGIONS = ("US", "GB", "FR", "DE", "ES", "IT", "BR", "IN", "JP", "CN", "IL", "RU")

# Issuer ranges and lengths per network (sources: each network's published BIN ranges as
# collected on Wikipedia's "Payment card number"). Prefixes are strings; a range "a-b" covers
# every prefix of that length between a and b.
NETWORKS: dict[str, tuple[tuple[str, tuple[int, ...]], ...]] = {
    "Visa": (("4", (13, 16, 19)),),
    "Mastercard": (("51-55", (16,)), ("2221-2720", (16,))),
    "Amex": (("34", (15,)), ("37", (15,))),
    "Discover": (("6011", (16, 19)), ("644-649", (16, 19)), ("65", (16, 19))),
    "JCB": (("3528-3589", (16, 19)),),
    "Diners": (("300-305", (14,)), ("36", (14,)), ("38-39", (16,))),
    "Maestro": (("5018", (12, 16, 19)), ("5020", (16,)), ("5038", (16,)), ("6304", (16,))),
    "Maestro UK": (("6759", (16, 18)), ("676770", (16,))),
    "UnionPay": (("62", (16, 17, 18, 19)),),
    "RuPay": (("60", (16,)), ("652", (16,)), ("81", (16,)), ("82", (16,)), ("508", (16,))),
    "Mir": (("2200-2204", (16, 19)),),
    "UATP": (("1", (15,)),),
}
CARDS_PER_RANGE = 3


def _group(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    out, at = [], 0
    for size in sizes:
        if at >= len(digits):
            break
        out.append(digits[at : at + size])
        at += size
    if at < len(digits):
        out.append(digits[at:])
    return sep.join(out)


def _card_groups(network: str, length: int) -> tuple[int, ...]:
    """How cards are printed: Amex 4-6-5, 14-digit Diners 4-6-4, the rest in fours."""
    if length == 15:
        return (4, 6, 5)
    if length == 14:
        return (4, 6, 4)
    return (4,) * 5


def _prefixes(spec: str) -> list[str]:
    if "-" not in spec:
        return [spec]
    low, high = spec.split("-")
    return [str(n) for n in range(int(low), int(high) + 1)]


def _phones() -> list[Case]:
    cases: list[Case] = []
    kinds = ((PhoneNumberType.MOBILE, "mobile"), (PhoneNumberType.FIXED_LINE, "fixed"))
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        seen: set[str] = set()
        for kind, label in kinds:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            if e164 in seen:  # regions whose mobile and fixed examples are one number
                continue
            seen.add(e164)
            intl = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
            national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
            cases.append(Case("phone_international", e164, None, f"{region} {label} E164"))
            cases.append(Case("phone_international", intl, None, f"{region} {label} INTERNATIONAL"))
            cases.append(Case("phone_national", national, region, f"{region} {label} NATIONAL"))
    return cases


def _bban_example(structure: str, rng: random.Random) -> str:
    """A BBAN of the registry structure ("4!n4!n12!c"): n digits, a upper letters, c either."""
    out: list[str] = []
    for count, kind in std_iban._struct_re.findall(structure):
        alphabet = {
            "n": "0123456789",
            "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        }[kind]
        out.append("".join(rng.choice(alphabet) for _ in range(int(count))))
    return "".join(out)


def iban_countries() -> list[tuple[str, str]]:
    """(country code, BBAN structure) of every country in stdnum's IBAN registry, sorted."""
    # numdb has no listing API; its tree: prefixes = [(length, low, high, props, children)].
    entries = [
        (low, props["bban"])
        for _length, low, _high, props, _children in numdb.get("iban").prefixes
        if "bban" in props
    ]
    return sorted(entries)


def _ibans() -> list[Case]:
    rng = random.Random("iban")
    cases: list[Case] = []
    for country, structure in iban_countries():
        for _ in range(2000):
            bban = _bban_example(structure, rng)
            number = country + std_iban.calc_check_digits(country + "00" + bban) + bban
            # Countries with a national check (ES, FR, BE, ...): draw until it holds too.
            if std_iban.is_valid(number):
                break
        else:  # pragma: no cover - every country's national check passes within a few draws
            raise AssertionError(f"no valid IBAN drawn for {country}")
        check = number[2:4]
        wrong = f"{(int(check) + 1 + rng.randrange(8)) % 100:02d}"
        broken = number[:2] + wrong + number[4:]
        if std_iban.is_valid(broken, check_country=False):  # pragma: no cover - mod 97 differs
            raise AssertionError(broken)
        for family, value in (("iban", number), ("iban_broken", broken)):
            forms = (
                ("compact", value),
                ("spaced", std_iban.format(value)),
                ("dashed", std_iban.format(value, "-")),
            )
            for form, text in forms:
                cases.append(Case(family, text, None, f"{country} {family} {form}"))
    return cases


def _cards() -> list[Case]:
    rng = random.Random("card")
    cases: list[Case] = []
    for network in sorted(NETWORKS):
        for spec, lengths in NETWORKS[network]:
            prefixes = _prefixes(spec)
            for length in lengths:
                for _ in range(CARDS_PER_RANGE):
                    prefix = rng.choice(prefixes)
                    body = prefix + "".join(
                        rng.choice("0123456789") for _ in range(length - len(prefix) - 1)
                    )
                    digits = body + luhn.calc_check_digit(body)
                    groups = _card_groups(network, length)
                    for form, text in (
                        ("plain", digits),
                        ("spaced", _group(digits, groups, " ")),
                        ("dashed", _group(digits, groups, "-")),
                    ):
                        note = f"{network} {length} {form}"
                        cases.append(Case("card", text, None, note))
    return cases


def _ssns() -> list[Case]:
    rng = random.Random("ssn")
    cases: list[Case] = []
    while len(cases) < 60 * 3:
        area = f"{rng.randrange(1, 900):03d}"
        group, serial = f"{rng.randrange(1, 100):02d}", f"{rng.randrange(1, 10000):04d}"
        if not std_ssn.is_valid(area + group + serial):
            continue
        for sep, form in (("-", "dashes"), (" ", "spaces"), (".", "dots")):
            cases.append(Case("ssn", sep.join((area, group, serial)), None, f"ssn {form}"))
    return cases


def _national_ids() -> list[Case]:
    rng = random.Random("national_id")
    cases: list[Case] = []
    for _ in range(20):
        digits = "".join(rng.choice("0123456789") for _ in range(9))
        number = digits + cpf._calc_check_digits(digits)
        if cpf.is_valid(number):
            cases.append(Case("national_id", cpf.format(number), None, "BR CPF formatted"))
        body = "".join(rng.choice("0123456789") for _ in range(8))
        cases.append(Case("national_id", body + dni.calc_check_digit(body), None, "ES DNI"))
        letters = "".join(rng.choice("BCDFGHLMNPRSTVZ") for _ in range(6))
        year, day = f"{rng.randrange(100):02d}", f"{rng.randrange(1, 29) + rng.choice((0, 40)):02d}"
        month = rng.choice("ABCDEHLMPRST")
        town = rng.choice("ABCDEFGHILM") + f"{rng.randrange(1, 1000):03d}"
        body = letters + year + month + day + town
        code = body + codicefiscale.calc_check_digit(body)
        if codicefiscale.is_valid(code):
            cases.append(Case("national_id", code, None, "IT codice fiscale"))
    return cases


@cache
def _corpus() -> tuple[tuple[str, tuple[Case, ...]], ...]:
    by_family: dict[str, list[Case]] = {}
    for case in _phones() + _ibans() + _cards() + _ssns() + _national_ids():
        by_family.setdefault(case.family, []).append(case)
    return tuple((family, tuple(cases)) for family, cases in sorted(by_family.items()))


def corpus() -> dict[str, list[Case]]:
    """Every generated case by family (families sorted, cases in generation order)."""
    return {family: list(cases) for family, cases in _corpus()}


def _lookalike_candidates() -> list[str]:
    rng = random.Random("lookalikes")
    out: list[str] = []
    # Dates and times in many locales (strftime-like layouts of each locale's short/long form).
    for y, m, d, hh, mm, ss in (
        (2024, 3, 7, 9, 5, 0),
        (2025, 12, 31, 23, 59, 59),
        (1999, 1, 2, 14, 30, 15),
    ):
        out += [
            f"{y}-{m:02d}-{d:02d}",  # ISO 8601 / sv, lt
            f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z",
            f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}",
            f"{m}/{d}/{y}",  # en-US
            f"{m:02d}/{d:02d}/{y} {hh % 12 or 12}:{mm:02d} {'PM' if hh >= 12 else 'AM'}",
            f"{d:02d}/{m:02d}/{y}",  # en-GB, fr, es, it, pt
            f"{d:02d}.{m:02d}.{y}",  # de, ru, pl
            f"{d}.{m}.{y % 100:02d}",
            f"{d:02d}-{m:02d}-{y}",  # nl
            f"{y}/{m:02d}/{d:02d}",  # ja, zh
            f"{y}年{m}月{d}日",  # ja, zh
            f"{y}. {m}. {d}.",  # ko
            f"{y}.{m:02d}.{d:02d}",  # hu
            f"{hh:02d}:{mm:02d}:{ss:02d}",
            f"{hh:02d}:{mm:02d}",
            f"{hh}h{mm:02d}",  # fr
            f"{d:02d}/{m:02d}/{y} {hh:02d}:{mm:02d}",
            f"{d:02d}.{m:02d}.{y}, {hh:02d}:{mm:02d}",
        ]
    # Prices in many locales.
    out += [
        "$1,299.99", "$12,345,678.00", "€ 1.299,99", "1 299,99 €", "1.299,99 EUR", "£1,049.50",
        "¥128,000", "₹1,23,456.78", "R$ 1.234,56", "CHF 1'299.95", "12 345 678,90 ₽", "US$ 49.00",
        "99,95 zł", "1.234.567,89 kr",
    ]  # fmt: skip
    # Version strings.
    out += [
        "v1.2.3",
        "2.10.0-rc.1",
        "Chrome/124.0.6367.201",
        "10.0.19045.4291",
        "1.22.3+build.20240307",
        "v2024.03.07",
    ]
    # Order and invoice numbers (letters or a prefix glued with a dash: ids, not numbers).
    for _ in range(6):
        n = rng.randrange(10**7, 10**9)
        out += [f"INV-{n}", f"ORD-{n % 10**6:06d}-{rng.randrange(100):02d}", f"#A{n}", f"PO{n}"]
    # ISBNs (ISBN-13 with hyphens and its ISBN-10 with the word), valid check digits from stdnum.
    for _ in range(6):
        body = "978" + "".join(rng.choice("0123456789") for _ in range(9))
        isbn13 = body + ean.calc_check_digit(body)
        out.append("ISBN " + isbn.format(isbn13))
        out.append("ISBN-13: " + isbn.format(isbn13))
        out.append("ISBN " + isbn.format(isbn.to_isbn10(isbn13)))
    # Tracking numbers: UPS 1Z + 6 shipper + 2 service + 8 (letters make them not phones),
    # UPU S10 (2 letters, 8 digits + check, country code), DHL eCommerce "GM" + digits.
    alnum = "0123456789ABCDEFGHJKLMNPRSTVWXYZ"
    for _ in range(6):
        out.append(
            "1Z"
            + "".join(rng.choice(alnum) for _ in range(6))
            + f"{rng.randrange(100):02d}"
            + f"{rng.randrange(10**8):08d}"
        )
        out.append(f"RR{rng.randrange(10**8, 10**9)}DE")
        out.append(f"GM{rng.randrange(10**15, 10**16)}")
    # Coordinates.
    out += [
        "48.858370, 2.294481",
        "-33.8688, 151.2093",
        "40°44'54\"N 73°59'08\"W",
        "35.6762° N, 139.6503° E",
        "geo:37.786971,-122.399677",
    ]
    # Hex hashes and UUIDs.
    for _ in range(6):
        out.append("".join(rng.choice("0123456789abcdef") for _ in range(40)))
        out.append("".join(rng.choice("0123456789abcdef") for _ in range(64)))
        out.append("".join(rng.choice("0123456789abcdef") for _ in range(7)))
        h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}")
    # Reserved example addresses (RFC 2606, RFC 6761): every visitor sees them, no one's data.
    out += [
        "you@example.com", "name@example.org", "jane.doe@example.net", "x@foo.test",
        "someone@mail.example", "nobody@site.invalid", "dev@app.localhost",
        "support@sub.example.com", "first.last+tag@example.com",
    ]  # fmt: skip
    return out


@cache
def _lookalikes() -> tuple[str, ...]:
    return tuple(_lookalike_candidates())


def lookalikes() -> list[str]:
    """Strings no detector may report in any of LOOKALIKE_REGIONS, in generation order."""
    return list(_lookalikes())


TEMPLATES = (
    "Call us at {} if anything looks wrong.",
    "Contact: {}",
    "Your details on file — {}. Thanks for shopping with us!",
    "({}) was saved to your profile",
    "Reference holder {}, please confirm",
    "{}",
    "Billing: {}; shipping same as billing.",
)


def text_with(value: str) -> str:
    """`value` in a realistic sentence, the template chosen by a stable hash of the value."""
    return TEMPLATES[zlib.crc32(value.encode()) % len(TEMPLATES)].format(value)
