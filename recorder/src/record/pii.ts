// PII detection in the page: emails (not at reserved example domains), payment cards (Luhn +
// issuer ranges and lengths of every network), phone numbers (E.164 anywhere, national formats
// of the page's region from rules generated from libphonenumber, tables.ts), IBANs (mod 97 and
// the registry's length per country) and US SSNs. The same families as the harness's detector
// (harness/pii.py, which uses phonenumbers and python-stdnum themselves), written separately
// and checked against the same generated corpus (tests/test_pii_recorder_corpus.py).
// Tiny, dependency-free and never throwing: it runs on every text and attribute value recorded.

export interface PiiSpan {
  start: number;
  end: number;
  kind: "email" | "card" | "phone" | "iban" | "ssn";
}

import { RULES } from "./tables";

type Kind = PiiSpan["kind"];

// Python's Unicode \w: a letter, a number or "_".
export const W = "\\p{L}\\p{N}_";
const re = (source: string): RegExp => new RegExp(source, "gu");
// Not inside an IBAN-shaped word run ("SE95 4231 6153 ..."): a check-broken IBAN holds no card or phone.
const NOT_IN_IBAN = "(?<![A-Za-z]{2}\\d\\d(?:[ -][A-Za-z0-9]{4})*[ -])";

const luhn = (d: string): boolean => {
  let sum = 0;
  for (let i = d.length, odd = 0; i--; odd ^= 1) {
    const n = +d[i]! * (odd + 1);
    sum += n > 9 ? n - 9 : n;
  }
  return sum % 10 == 0;
};

/**
 * Issuer ranges and lengths of every network (Visa, Mastercard incl. 2-series, Amex, Discover,
 * JCB, Diners, Maestro, UnionPay, RuPay, Mir, UATP): a Luhn-valid timestamp or order number has none.
 */
const brand = (d: string): boolean =>
  d.length > 11 && /^(?:1\d{14}$|2(?:20[0-4]|2[2-9]|[3-6]|7[01]|720)|3[04-9]|[4-6]|8[12])/.test(d);

const ibanValid = (s: string): boolean => {
  const c = s.replace(/[ -]/g, "").toUpperCase();
  // A mod-97-valid run of the wrong length for its country (a hash, a reference) is no IBAN.
  if (parseInt(RULES[c.slice(0, 2)]?.[4] as string, 36) != c.length) return false;
  let r = 0;
  for (const ch of c.slice(4) + c.slice(0, 4)) {
    const v = parseInt(ch, 36);
    r = (r * (v > 9 ? 100 : 10) + v) % 97;
  }
  return r == 1;
};

/**
 * An IBAN candidate with trailing words dropped until one checks out ("... 0130 00 EUR"). After
 * a candidate with no valid prefix the search goes on from its next character, not its end, so
 * an IBAN that follows an IBAN-shaped word ("REF AB12 DE89 ...") is still found.
 */
const iban = (m: RegExpExecArray, family: RegExp): number => {
  for (let s = m[0], cut; ; s = s.slice(0, cut)) {
    if (ibanValid(s)) return (family.lastIndex = m.index + s.length), s.length;
    if ((cut = s.search(/[ -][^ -]*$/)) < 0) return (family.lastIndex = m.index + 1), 0;
  }
};

// A national number needs the page's region (setRegion): its prefix, the shortest and longest
// national number and the longest group its formats print (tables.ts' record, from libphonenumber).
let region: string | undefined, ruleOf: string, rule: string;
/** The page's region for national phone formats ("FR"); unset: `<html lang>`'s region, else US. */
export const setRegion = (r?: string | null): void => {
  region = r ? (r + "").toUpperCase() : undefined;
};
// Read when a number is checked, not when the recorder starts: an init script runs before <html>.
const regionRule = (): string => {
  const r = region || (/-([a-z]{2})$/i.exec(document.documentElement?.lang)?.[1] || "").toUpperCase();
  if (r != ruleOf) rule = RULES[(ruleOf = r)] || RULES.US!;
  return rule;
};
// A date first (2024-03-07, 07.03.2024 10); dots but in groups of 2 digits or more, 3 groups or
// more (not a decimal, a coordinate, a version, an IP address), not 3 pairs (31.12.25).
const NOT_NATIONAL =
  /^(?:(?:19|20)\d\d[ .-]\d\d?[ .-]\d\d?|\d\d?[ .-]\d\d?[ .-](?:19|20)\d\d)\b|^(?=.*\.)(?!\d\d+(?:\.\d\d+){2,}$)|^\d\d\.\d\d\.\d\d$/;
const phone = (m: RegExpExecArray): number => {
  const s = m[0],
    d = s.replace(/\D/g, "");
  if (s[0] == "+") return whole(d.length > 7 && d.length < 16, m); // E.164
  const r = regionRule(),
    p = r[0] == "_" ? "" : r[0] == "6" ? "06" : r[0]!,
    [min, max, longest] = [...r.slice(1, 4)].map((c) => parseInt(c, 36)),
    fits = (n: number): boolean => n >= min! && n <= max!;
  // The last group has 2 digits or more (not an ISBN), none is longer than the region prints
  // (not an order number). Without the prefix, a national number starts with neither it nor 0
  // (that is the prefix's place), and has 6 digits or more where a prefix exists.
  return NOT_NATIONAL.test(s) || /\D\d$/.test(s) || s.match(/\d+/g)!.some((g) => g.length > longest!)
    ? 0
    : whole((!!p && d.startsWith(p) && fits(d.length - p.length)) || (fits(d.length) && (!p || (d.length > 5 && d[0] != "0" && !d.startsWith(p)))), m);
};

const length = (m: RegExpExecArray): number => m[0].length;
const whole = (ok: boolean, m: RegExpExecArray): number => (ok ? length(m) : 0);

// Compiled on first use, not as literals: an engine without lookbehind or \p{} must not fail to
// parse the whole recorder (it only records without detection), and compiling the \p{} classes
// would be the costliest part of evaluating the recorder. The order of the families breaks ties
// between equal spans, as in harness/pii.py. Each check returns the length of the match it
// accepts (0: none); it may move the search on by setting the pattern's lastIndex.
type Family = [Kind, RegExp, (m: RegExpExecArray, family: RegExp) => number];
const FAMILIES: (() => Family)[] = [
  () => [
    "email",
    re(`(?<![${W}.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}(?![${W}])`),
    // The RFC 2606/6761 example domains are no one's address (a you@example.com placeholder).
    (m) => whole(!/[@.]example\.(?:com|net|org)$|\.(?:test|example|invalid|localhost)$/i.test(m[0]), m),
  ],
  // 12-19 digits, optionally grouped by single spaces or dashes; glued to a letter it is part
  // of a word (a hash, an id), not a card.
  () => ["card", re(`${NOT_IN_IBAN}(?<![${W}-])\\d(?:[ -]?\\d){11,18}(?![${W}-])`), (m) => ((d) => whole(luhn(d) && brand(d), m))(m[0].replace(/\D/g, ""))],
  // Print form or compact, either case. A word glued to it ("...3000PAID") makes one word: not an IBAN.
  () => ["iban", re(`(?<![${W}])[A-Za-z]{2}\\d{2}(?:[ -]?[A-Za-z0-9]){11,30}(?![${W}])`), iban],
  // Area not 000, 666 or 9xx, group not 00, serial not 0000; one separator, twice.
  () => ["ssn", re("(?<![\\d.-])(?!000|666|9)\\d{3}([ .-])(?!00)\\d\\d\\1(?!0000)\\d{4}(?![\\d-]|[.,]\\d)"), length],
  // International (+ and 8 to 15 digits: E.164) or national (the region's rule), grouped by
  // single spaces, dashes or dots, a group in parentheses ("(11) 96123-4567", "8 (912) 345-67-89").
  // A dash or dot before it joins it to an id (INV-555-123-4567), a digit after a dot or comma
  // (a date, a decimal) makes it a number.
  () => [
    "phone",
    re(`${NOT_IN_IBAN}(?<![${W}+.-]|\\d[.,/:])(?:\\+\\d+|\\(\\d+(?:[ -]\\d+)?\\)|\\d+)(?:[ .-]?\\(\\d+\\)|[ .-]\\d+)*(?![${W}-]|[.,/:]\\d)`),
    phone,
  ],
];
const compiled: Family[] = [];
let broken = false; // compiling threw (no lookbehind, no \p{}): no detection at all

/**
 * Compile the next family and run it twice (V8 compiles a pattern on its first use and again,
 * to machine code, on its second): true once all are done. The recorder warms them a task each
 * before its first snapshot, whose first PII check would otherwise pay for all of them in one
 * slice (about 40 ms at 4x throttling).
 */
export const warmPii = (): boolean => {
  if (broken || compiled.length == FAMILIES.length) return true;
  try {
    const family = FAMILIES[compiled.length]!();
    for (const sample of ["a@b.co 0", "+1 555 0100"]) {
      family[1].lastIndex = 0; // findPii sets it before each use too
      family[1].exec(sample);
    }
    compiled[compiled.length] = family;
  } catch {
    broken = true;
  }
  return broken || compiled.length == FAMILIES.length;
};

/** Every PII span in `text`, in order, without overlaps (the earliest, then the longest, wins). */
export const findPii = (text: string): PiiSpan[] => {
  const kept: PiiSpan[] = [];
  // Most text nodes hold neither a digit nor an "@": nothing to look for.
  if (typeof text != "string" || !/[\d@]/.test(text)) return kept;
  try {
    const found: PiiSpan[] = [];
    while (!warmPii());
    if (broken) throw 0; // findPii finds nothing
    // Too few digits for a phone number (E.164 has 8 or more, a national one the region's
    // shortest), so for a card (12) or an SSN (9): a table's numbers ("332.87", a row's "1204").
    // Counted once, they spare those patterns; an IBAN (2 digits at the least) fails at once.
    const few = text.replace(/\D/g, "").length < Math.min(8, parseInt(regionRule()[1]!, 36));
    for (const [kind, family, accept] of compiled) {
      if (kind == "email" ? text.indexOf("@") < 0 : few && kind != "iban") continue;
      family.lastIndex = 0;
      for (let m; (m = family.exec(text)); ) {
        const length = accept(m, family);
        if (length) found.push({ start: m.index, end: m.index + length, kind });
      }
    }
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    for (const s of found) if (!kept.length || s.start >= kept[kept.length - 1]!.end) kept.push(s);
  } catch {
    // A detector must never break the recording; on failure nothing is found.
  }
  return kept;
};

/** `text` with every PII span replaced by `mask(span)`; all of it starred if `mask` throws. */
export const maskPii = (text: string, mask: (s: string) => string): string => {
  const spans = findPii(text);
  if (!spans.length) return text;
  try {
    let out = "",
      at = 0;
    for (const s of spans) {
      out += text.slice(at, s.start) + mask(text.slice(s.start, s.end));
      at = s.end;
    }
    return out + text.slice(at);
  } catch {
    return text.replace(/\S/g, "*"); // fail closed
  }
};
