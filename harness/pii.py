"""PII detectors: emails, payment cards (Luhn), phone numbers, IBANs (mod 97), US SSNs.

The harness's own detector, independent of any recorder's, used to find PII on a live page that
a scenario did not declare. Tuned against look-alikes: dates, prices, versions, order numbers,
timestamps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Match:
    kind: str  # email | card | phone | iban | ssn
    value: str
    start: int
    end: int


EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
# 13-19 digits, optionally grouped by single spaces or dashes. Digits glued to a letter
# ("4111111111111111a", "tok_4111...") are part of a word (a hash, an id), not a card.
CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# Country code, check digits, then letters and digits, in print form (single spaces) or compact,
# in either case. A candidate may run into the next word ("... 0130 00 EUR"): find() drops
# trailing words until the checksum holds. A word glued to it ("...3000PAID") makes one word,
# which is not an IBAN, as digits glued to letters are not a card.
IBAN = re.compile(r"(?<!\w)[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?!\w)")
SSN = re.compile(r"(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-])")
# International (+CC ...) with separators or compact E.164 (+ and 8 to 15 digits, as in tel:
# links), national with an area code in parentheses, or the common 3-3-4 and 0X XX XX XX XX
# layouts. Separators are required elsewhere so bare numbers don't match. A dash or dot before
# it joins it to an id ("INV-555-123-4567", "v1.555.123.4567"): not a phone.
PHONE = re.compile(
    r"(?<![\w+.-])(?:"
    r"\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?)(?:[ .-]\d{2,4}){2,4}"
    r"|\+[1-9]\d{7,14}"
    r"|\(\d{3}\) ?\d{3}[ .-]\d{4}"
    r"|\d{3}[.-]\d{3}[.-]\d{4}"
    r"|0[1-9](?:[ .]\d{2}){4}"
    r")(?![\w-])"
)
# Every family needs a digit (an email an "@").
MAYBE_PII = re.compile(r"[\d@]")
# IBAN length of every country of the SWIFT IBAN registry: a mod-97-valid run of the wrong
# length (a hash, a reference) is not an IBAN. recorder/src/record/pii.ts holds the same string.
IBAN_COUNTRIES = (
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27"
    " DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28"
    " IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22"
    " MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24"
    " SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30"
)
IBAN_LENGTHS = {entry[:2]: int(entry[2:]) for entry in IBAN_COUNTRIES.split()}


def luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_brand(digits: str) -> bool:
    """Issuer prefixes and lengths: a Luhn-valid timestamp or order number has none of them."""
    n = len(digits)
    two, four = int(digits[:2]), int(digits[:4])
    return (
        (digits[0] == "4" and n in (13, 16, 19))
        or ((51 <= two <= 55 or 2221 <= four <= 2720) and n == 16)
        or (two in (34, 37) and n == 15)
        or ((digits.startswith("6011") or two == 65 or 644 <= int(digits[:3]) <= 649) and n >= 16)
        or (two == 35 and n >= 16)
        or (two in (30, 36, 38) and n == 14)
    )


def iban_valid(text: str) -> bool:
    compact = text.replace(" ", "").upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _ibans(text: str) -> list[Match]:
    """IBAN candidates with trailing words dropped until one checks out. After a candidate
    with no valid prefix the search goes on from its next character, not its end, so an IBAN
    that follows an IBAN-shaped word ("REF AB12 DE89 ...") is still found."""
    found: list[Match] = []
    at = 0
    while m := IBAN.search(text, at):
        candidate = m.group()
        while not iban_valid(candidate) and " " in candidate:
            candidate = candidate.rsplit(" ", 1)[0]
        if iban_valid(candidate):
            found.append(Match("iban", candidate, m.start(), m.start() + len(candidate)))
            at = m.start() + len(candidate)
        else:
            at = m.start() + 1
    return found


def _ssn_valid(area: str, group: str, serial: str) -> bool:
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def find(text: str) -> list[Match]:
    """Every PII match in `text`, in order; overlapping matches keep the earliest, longest."""
    if not MAYBE_PII.search(text):
        return []  # most text holds neither a digit nor an "@": nothing to look for
    found: list[Match] = [
        Match("email", m.group(), m.start(), m.end()) for m in EMAIL.finditer(text)
    ]
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if luhn(digits) and _card_brand(digits):
            found.append(Match("card", m.group(), m.start(), m.end()))
    found += _ibans(text)
    found += [
        Match("ssn", m.group(), m.start(), m.end())
        for m in SSN.finditer(text)
        if _ssn_valid(*m.groups())
    ]
    found += [Match("phone", m.group(), m.start(), m.end()) for m in PHONE.finditer(text)]
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[Match] = []
    for match in found:
        if not kept or match.start >= kept[-1].end:
            kept.append(match)
    return kept
