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

const ibanValid = (s: string): boolean => {
  const c = s.replace(/ /g, "");
  if (c.length < 15 || c.length > 34) return false;
  let r = 0;
  for (const ch of c.slice(4) + c.slice(0, 4)) {
    const v = parseInt(ch, 36);
    r = (r * (v > 9 ? 100 : 10) + v) % 97;
  }
  return r == 1;
};

const ssnValid = (m: RegExpExecArray): boolean =>
  m[1] != "000" && m[1] != "666" && m[1]![0] != "9" && m[2] != "00" && m[3] != "0000";

// Compiled here, not as literals: an engine without lookbehind or \p{} must not fail to parse
// the whole recorder; it only records without detection. The order of the families breaks ties
// between equal spans, as in harness/pii.py.
let FAMILIES: [Kind, RegExp, (m: RegExpExecArray) => boolean][] = [];
try {
  FAMILIES = [
    ["email", re(`(?<![${W}.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}(?![${W}])`), () => true],
    // 13-19 digits, optionally grouped by single spaces or dashes.
    ["card", re("(?<![\\d-])\\d(?:[ -]?\\d){12,18}(?![\\d-])"), (m) => ((m[0] = m[0].replace(/\D/g, "")), luhn(m[0]) && brand(m[0]))],
    ["iban", re(`(?<![${W}])[A-Z]{2}\\d{2}(?: ?[A-Z0-9]){11,30}(?![${W}])`), (m) => ibanValid(m[0])],
    ["ssn", re("(?<![\\d-])(\\d{3})-(\\d{2})-(\\d{4})(?![\\d-])"), ssnValid],
    // International (+CC ...), (555) 123-4567, 555-123-4567 / 555.123.4567, 0X XX XX XX XX.
    [
      "phone",
      re(
        `(?<![${W}+])(?:\\+\\d{1,3}[ .-]?\\(?\\d{1,4}\\)?(?:[ .-]\\d{2,4}){2,4}|\\(\\d{3}\\) ?\\d{3}[ .-]\\d{4}|\\d{3}[.-]\\d{3}[.-]\\d{4}|0[1-9](?:[ .]\\d{2}){4})(?![${W}-])`,
      ),
      () => true,
    ],
  ];
} catch {
  // No detection on this engine.
}

/** Every PII span in `text`, in order, without overlaps (the earliest, then the longest, wins). */
export function findPii(text: string): PiiSpan[] {
  const kept: PiiSpan[] = [];
  // Most text nodes hold neither a digit nor an "@": nothing to look for.
  if (typeof text != "string" || !/[\d@]/.test(text)) return kept;
  try {
    const found: PiiSpan[] = [];
    for (const [kind, family, valid] of FAMILIES) {
      if (kind == "email" && text.indexOf("@") < 0) continue;
      family.lastIndex = 0;
      for (let m; (m = family.exec(text)); ) {
        const start = m.index,
          end = start + m[0].length;
        if (valid(m)) found.push({ start, end, kind });
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
