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
# 13-19 digits, optionally grouped by single spaces or dashes.
CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
SSN = re.compile(r"(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-])")
# International (+CC ...) or national with an area code in parentheses, or the common
# 3-3-4 and 0X XX XX XX XX layouts. Separators are required so bare numbers don't match.
PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?)(?:[ .-]\d{2,4}){2,4}"
    r"|\(\d{3}\) ?\d{3}[ .-]\d{4}"
    r"|\d{3}[.-]\d{3}[.-]\d{4}"
    r"|0[1-9](?:[ .]\d{2}){4}"
    r")(?![\w-])"
)


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
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _ssn_valid(area: str, group: str, serial: str) -> bool:
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def find(text: str) -> list[Match]:
    """Every PII match in `text`, in order; overlapping matches keep the earliest, longest."""
    found: list[Match] = [
        Match("email", m.group(), m.start(), m.end()) for m in EMAIL.finditer(text)
    ]
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if luhn(digits) and _card_brand(digits):
            found.append(Match("card", m.group(), m.start(), m.end()))
    found += [
        Match("iban", m.group(), m.start(), m.end())
        for m in IBAN.finditer(text)
        if iban_valid(m.group())
    ]
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
