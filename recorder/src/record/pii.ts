// PII detection in the page: emails, payment cards (Luhn + issuer prefix and length), phone
// numbers, IBANs (mod 97) and US SSNs. The same families and look-alike rules as the harness's
// detector (harness/pii.py), implemented separately: the harness grades the recorder with its own.
// Tiny, dependency-free and never throwing: it runs on every text and attribute value recorded.

export interface PiiSpan {
  start: number;
  end: number;
  kind: "email" | "card" | "phone" | "iban" | "ssn";
}

type Kind = PiiSpan["kind"];

// Python's Unicode \w: a letter, a number or "_".
const W = "\\p{L}\\p{N}_";
const re = (source: string): RegExp => new RegExp(source, "gu");

const luhn = (d: string): boolean => {
  let sum = 0;
  for (let i = d.length, odd = 0; i--; odd ^= 1) {
    const n = +d[i]! * (odd + 1);
    sum += n > 9 ? n - 9 : n;
  }
  return sum % 10 == 0;
};

/** Issuer prefixes and lengths: a Luhn-valid timestamp or order number has none of them. */
const brand = (d: string): boolean => {
  const n = d.length,
    two = +d.slice(0, 2),
    three = +d.slice(0, 3),
    four = +d.slice(0, 4);
  return (
    (d[0] == "4" && (n == 13 || n == 16 || n == 19)) ||
    (((two > 50 && two < 56) || (four > 2220 && four < 2721)) && n == 16) ||
    ((two == 34 || two == 37) && n == 15) ||
    ((four == 6011 || two == 65 || (three > 643 && three < 650)) && n > 15) ||
    (two == 35 && n > 15) ||
    ((two == 30 || two == 36 || two == 38) && n == 14)
  );
};

// IBAN length of every country of the SWIFT IBAN registry: a mod-97-valid run of the wrong
// length (a hash, a reference) is not an IBAN. harness/pii.py holds the same string.
const IBAN_COUNTRIES =
  "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27" +
  " DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28" +
  " IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22" +
  " MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24" +
  " SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30";
const IBAN_LENGTHS = new Map(IBAN_COUNTRIES.split(" ").map((e): [string, number] => [e.slice(0, 2), +e.slice(2)]));

const ibanValid = (s: string): boolean => {
  const c = s.replace(/ /g, "").toUpperCase();
  if (IBAN_LENGTHS.get(c.slice(0, 2)) !== c.length) return false;
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
  for (let s = m[0]; ; s = s.slice(0, s.lastIndexOf(" "))) {
    if (ibanValid(s)) return (family.lastIndex = m.index + s.length), s.length;
    if (s.indexOf(" ") < 0) return (family.lastIndex = m.index + 1), 0;
  }
};

const ssnValid = (m: RegExpExecArray): boolean =>
  m[1] != "000" && m[1] != "666" && m[1]![0] != "9" && m[2] != "00" && m[3] != "0000";

const whole = (ok: boolean, m: RegExpExecArray): number => (ok ? m[0].length : 0);

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
    (m) => m[0].length,
  ],
  // 13-19 digits, optionally grouped by single spaces or dashes; glued to a letter it is part
  // of a word (a hash, an id), not a card.
  () => ["card", re(`(?<![${W}-])\\d(?:[ -]?\\d){12,18}(?![${W}-])`), (m) => ((d) => whole(luhn(d) && brand(d), m))(m[0].replace(/\D/g, ""))],
  // Print form or compact, either case. A word glued to it ("...3000PAID") makes one word: not an IBAN.
  () => ["iban", re(`(?<![${W}])[A-Za-z]{2}\\d{2}(?: ?[A-Za-z0-9]){11,30}(?![${W}])`), iban],
  () => ["ssn", re("(?<![\\d-])(\\d{3})-(\\d{2})-(\\d{4})(?![\\d-])"), (m) => whole(ssnValid(m), m)],
  // International (+CC ...) or compact E.164 (+33612345678), (555) 123-4567, 555-123-4567 /
  // 555.123.4567, 0X XX XX XX XX. A dash or dot before it joins it to an id (INV-555-123-4567).
  () => [
    "phone",
    re(
      `(?<![${W}+.-])(?:\\+\\d{1,3}[ .-]?\\(?\\d{1,4}\\)?(?:[ .-]\\d{2,4}){2,4}|\\+[1-9]\\d{7,14}|\\(\\d{3}\\) ?\\d{3}[ .-]\\d{4}|\\d{3}[.-]\\d{3}[.-]\\d{4}|0[1-9](?:[ .]\\d{2}){4})(?![${W}-])`,
    ),
    (m) => m[0].length,
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
export function warmPii(): boolean {
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
}

const families = (): Family[] => {
  while (!warmPii());
  if (broken) throw new Error("no PII detection here");
  return compiled;
};

/** Every PII span in `text`, in order, without overlaps (the earliest, then the longest, wins). */
export function findPii(text: string): PiiSpan[] {
  const kept: PiiSpan[] = [];
  // Most text nodes hold neither a digit nor an "@": nothing to look for.
  if (typeof text != "string" || !/[\d@]/.test(text)) return kept;
  try {
    const found: PiiSpan[] = [];
    for (const [kind, family, accept] of families()) {
      if (kind == "email" && text.indexOf("@") < 0) continue;
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
}

/** `text` with every PII span replaced by `mask(span)`; all of it starred if `mask` throws. */
export function maskPii(text: string, mask: (s: string) => string): string {
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
}
