// The number formats of the report (BENCHMARKS.md), shared by every section.

/** `x` with `digits` decimals and thousands separators; "—" when missing. */
export const f = (x, digits = 0) =>
  x === undefined || x === null || Number.isNaN(x)
    ? "—"
    : Number(x).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A ratio with the decimals its size deserves. */
export const fx = (x) => (x >= 100 ? f(x, 0) : x >= 10 ? f(x, 1) : f(x, 2));

/** A median with its range: "median (min–max)". */
export const spread = (s, digits) => `${f(s.median, digits)} (${f(s.min, digits)}–${f(s.max, digits)})`;

/** A ratio's median with its range. */
export const ratio = (s) => `${fx(s.median)}× (${fx(s.min)}–${fx(s.max)})`;

/** A target's verdict. */
export const met = (ok) => (ok ? "**met**" : "**missed**");

/** Bytes as KB (1,024 bytes). */
export const kb = (b) => `${f(b / 1024, 1)} KB`;
