/**
 * How one raw field becomes a number. Training (CSV reading) and scoring (the predictor's
 * `encode`) share these functions, so a value read at training time and the same value sent to
 * the server land on the same side of every split.
 */

/**
 * Field values read as "missing", for numeric and categorical columns alike (the common subset of
 * pandas' and R's defaults). A categorical column cannot have a category spelled like one of these.
 */
export const MISSING_TOKENS: ReadonlySet<string> = new Set(["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None", "?"]);

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * Parses a numeric field exactly as `Number(text)` would (correctly rounded), or returns undefined
 * when the text is not a number. Missing tokens give NaN. The common case, a plain decimal with at
 * most 15 significant digits, takes Clinger's fast path: both the integer mantissa and the power of
 * ten are exact doubles, so one division is correctly rounded. CSV parsing spends most of its time
 * here, and this is ~4x faster than `Number()` on a fresh substring.
 */
export function parseNumber(text: string): number | undefined {
  const n = text.length;
  if (n === 0 || MISSING_TOKENS.has(text)) return NaN;
  let i = 0;
  const first = text.charCodeAt(0);
  const negative = first === 45; /* - */
  if (negative || first === 43 /* + */) i = 1;
  const start = i;
  let mantissa = 0;
  let significant = 0;
  let fraction = -1;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      if (mantissa !== 0) significant++;
      if (fraction >= 0) fraction++;
    } else if (c === 46 /* . */ && fraction < 0) {
      fraction = 0;
    } else {
      break;
    }
  }
  const nDigits = n - start - (fraction >= 0 ? 1 : 0);
  if (i === n && nDigits > 0 && significant <= 15 && fraction <= 22) {
    const v = fraction > 0 ? mantissa / POW10[fraction]! : mantissa;
    return negative ? -v : v;
  }
  return slowParse(text);
}

function slowParse(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed.length === 0) return NaN;
  if (MISSING_TOKENS.has(trimmed)) return NaN;
  // Number() accepts forms a CSV reader should not ("0x1f", "0b1", "Infinity" is fine to keep).
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed) || /^[-+]?(Infinity|inf)$/i.test(trimmed)) {
    if (/inf$/i.test(trimmed)) return trimmed.startsWith("-") ? -Infinity : Infinity;
    return Number(trimmed);
  }
  return undefined;
}

/** True when a field is one of the missing tokens. */
export function isMissing(text: string): boolean {
  return MISSING_TOKENS.has(text) || (text.length > 0 && text.trim().length === 0);
}

/**
 * `parseNumber` over the bytes `buf[start, end)`, without making a string in the common case
 * (same fast path, same result). Values beyond ±MAX_VALUE (the text "inf", "1e999") are clamped to
 * ±MAX_VALUE, as `clampNumber` does at scoring time.
 */
export function parseNumberBytes(buf: Uint8Array, start: number, end: number): number | undefined {
  if (start === end) return NaN;
  let i = start;
  const first = buf[i];
  const negative = first === 45;
  if (negative || first === 43) i++;
  const digitsStart = i;
  let mantissa = 0;
  let significant = 0;
  let fraction = -1;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      if (mantissa !== 0) significant++;
      if (fraction >= 0) fraction++;
    } else if (c === 46 && fraction < 0) {
      fraction = 0;
    } else {
      break;
    }
  }
  const nDigits = end - digitsStart - (fraction >= 0 ? 1 : 0);
  if (i === end && nDigits > 0 && significant <= 15 && fraction <= 22) {
    const v = fraction > 0 ? mantissa / POW10[fraction]! : mantissa;
    return negative ? -v : v;
  }
  let text = "";
  for (let j = start; j < end; j++) text += String.fromCharCode(buf[j]!);
  const v = parseNumber(text);
  return v === undefined ? undefined : clampNumber(v);
}

/** ±Infinity become ±MAX_VALUE, so that JSON (which has no Infinity) can hold every threshold. */
export function clampNumber(v: number): number {
  return v === Infinity ? Number.MAX_VALUE : v === -Infinity ? -Number.MAX_VALUE : v;
}
