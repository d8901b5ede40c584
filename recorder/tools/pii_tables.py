"""Compact tables for the recorder's PII detector (recorder/src/record/pii.ts), generated from
the reference libraries into recorder/src/record/tables.ts: phone rules from libphonenumber's
metadata (the `phonenumbers` package), IBAN lengths from python-stdnum's copy of the SWIFT IBAN
registry.

Phones: not the whole metadata (about 250 KB), only what tells a phone number from other digits
in a few hundred bytes. International form needs none: a "+" and 8 to 15 digits (E.164);
checking the calling code as well cost 150 bytes gzipped and found nothing more on the corpus.
National form, per region: its national prefix (in every region numbers are also written
without it: a format prints none or makes it optional; asserted below), the shortest and
longest national significant number, and the longest group of digits its national formats
print, the prefix included (a longer group is an id, not a phone number).

Both tables are shipped as one (records: fewer gzipped bytes, issue 12): a bitmap of the
regions over AA..ZZ, then per region, in that order, a record of 4 characters: the national
prefix's code and the three numbers in base 36 (rules that differ slightly shared: `merged`),
then for an IBAN country its IBAN length in upper-case base 36. tables.ts decodes it into RULES
(region -> record), which pii.ts reads.

Run: .venv/bin/python recorder/tools/pii_tables.py  (tests/test_pii_tables.py checks that the
committed file is this script's output).
"""

from __future__ import annotations

import re
from pathlib import Path

# re's parser (sre_parse, deprecated as a module name): the one way to read a pattern's groups.
from re import _parser as sre_parse  # type: ignore[attr-defined]

import phonenumbers
import stdnum
from phonenumbers.phonemetadata import PhoneMetadata
from stdnum import iban

OUT = Path(__file__).resolve().parent.parent / "src" / "record" / "tables.ts"
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
IBAN_DAT = Path(iban.__file__).with_name("iban.dat")


def _max_group(pattern: str) -> int:
    """The longest digit group a number format prints."""
    widths = [
        int(node[1][-1].getwidth()[1]) if str(node[0]) == "SUBPATTERN" else 0
        for node in sre_parse.parse(pattern)
    ]
    return max(widths or [0])


def region_rule(region: str) -> str:
    """Prefix, then shortest and longest NSN and longest printed group in base 36: "09a5"."""
    m = PhoneMetadata.metadata_for_region(region)
    assert m is not None and m.general_desc is not None
    prefix = m.national_prefix or ""
    formats = m.number_format or []
    assert (
        not prefix
        or not formats
        or any(
            not f.national_prefix_formatting_rule
            or "$NP" not in f.national_prefix_formatting_rule
            or f.national_prefix_optional_when_formatting
            for f in formats
        )
    ), f"{region}: numbers always written with the prefix"
    lengths = sorted(set(m.general_desc.possible_length or ()) - {-1})
    group = max([_max_group(f.pattern or "") for f in formats] or [lengths[-1]]) + len(prefix)
    return f"{prefix}{B36[lengths[0]]}{B36[lengths[-1]]}{B36[group]}"


def iban_lengths() -> dict[str, int]:
    """Country -> IBAN length: 4 (country, check digits) + the registry's BBAN structure."""
    out: dict[str, int] = {}
    for line in IBAN_DAT.read_text().splitlines():
        if found := re.match(r'([A-Z]{2}) .*bban="([^"]+)"', line):
            country, bban = found.groups()
            out[country] = 4 + sum(int(n) for n in re.findall(r"(\d+)!", bban))
    return out


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
B32 = B36[:32]
# National prefixes as one character: none, one digit as itself, Hungary's "06" as "6" (no
# region's prefix is the digit 6; asserted in records).
PREFIX_CODES = {"": "_", "06": "6"}


def merged(rules: dict[str, str]) -> dict[str, str]:
    """Each region's rule replaced by one shared with others that is at most one wider in each
    of its numbers (longest NSN and longest group one more, shortest NSN one less where it is
    above 6: a 5- or 6-digit group is a price or a code as often as a phone number; same prefix):
    fewer distinct records compress better (issue 12). Greedy: the rule that covers the most
    regions left first (ties: the first in sorted order)."""

    def parts(rule: str) -> tuple[str, int, int, int]:
        return rule[:-3], B36.index(rule[-3]), B36.index(rule[-2]), B36.index(rule[-1])

    def covers(wide: tuple[str, int, int, int], rule: tuple[str, int, int, int]) -> bool:
        return (
            wide[0] == rule[0]
            and rule[1] - (rule[1] > 6) <= wide[1] <= rule[1]
            and rule[2] <= wide[2] <= rule[2] + 1
            and rule[3] <= wide[3] <= rule[3] + 1
        )

    own = {code: parts(rule) for code, rule in rules.items()}
    wider = {
        (p, lo - a, hi + b, g + c)
        for p, lo, hi, g in own.values()
        for a in (0, 1)
        for b in (0, 1)
        for c in (0, 1)
    }
    candidates = sorted(wider)
    left = dict(own)
    out: dict[str, str] = {}
    while left:
        best = max(candidates, key=lambda w: sum(covers(w, r) for r in left.values()))
        for code in [c for c, r in left.items() if covers(best, r)]:
            out[code] = best[0] + B36[best[1]] + B36[best[2]] + B36[best[3]]
            del left[code]
    return out


def records(rules: dict[str, str], lengths: dict[str, int]) -> tuple[str, str]:
    """The regions' bitmap over AA..ZZ (5 bits a base-32 digit, lowest first) and their records:
    4 characters, then an IBAN country's IBAN length in upper-case base 36 (15..34: F..Y)."""
    codes = [a + b for a in LETTERS for b in LETTERS]
    assert set(rules) <= set(codes) and set(lengths) <= set(rules)
    assert all(15 <= n <= 34 for n in lengths.values())
    bits = [c in rules for c in codes]
    bitmap = "".join(
        B32[sum(bit << k for k, bit in enumerate(bits[i : i + 5]))] for i in range(0, len(bits), 5)
    )
    data = ""
    for code in sorted(rules):
        rule = rules[code]
        prefix = rule[:-3]
        assert prefix in PREFIX_CODES or (len(prefix) == 1 and prefix != "6"), (code, prefix)
        iban_length = B36[lengths[code]].upper() if code in lengths else ""
        data += PREFIX_CODES.get(prefix, prefix) + rule[-3:] + iban_length
    return bitmap, data


def generate() -> str:
    regions = merged({r: region_rule(r) for r in phonenumbers.SUPPORTED_REGIONS})
    bitmap, data = records(regions, iban_lengths())
    return (
        "// Generated by recorder/tools/pii_tables.py (phonenumbers"
        f" {phonenumbers.__version__}, python-stdnum {stdnum.__version__}): do not edit.\n"
        "// Per region (AA..ZZ, those set in the bitmap), 4 characters: national prefix\n"
        "// (_ none, 6 for 06), shortest and longest national number, longest printed group\n"
        "// (base 36; rules shared, one wider), then an IBAN country's IBAN length (base 36,\n"
        "// upper case). Decoded at evaluation (pii.ts: RULES).\n"
        "export const RULES: Record<string, string> = Object.create(null);\n"
        f'for (let i = 0, k = 0, r = "{data}".match(/.{{4}}[A-Z]?/g)!; i < 676; i++)\n'
        f'  if ((parseInt("{bitmap}"[(i / 5) | 0]!, 32) >> i % 5) & 1)\n'
        "    RULES[String.fromCharCode(65 + i / 26, 65 + (i % 26))] =\n"
        "      r[k++]!;\n"
    )


if __name__ == "__main__":
    OUT.write_text(generate())
    print(f"wrote {OUT} ({len(OUT.read_text())} bytes)")
