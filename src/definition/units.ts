/**
 * Durations and sizes as people write them in a definition. Parsing lives here, apart from
 * the schema, because the controller, the CLI and error hints all need the same rules.
 */

const MS_PER_UNIT = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * One or more `<number><unit>` parts with units ms, s, m, h: `250ms`, `10s`, `1m30s`, `1.5s`.
 * A bare number is refused: `10` could mean seconds or milliseconds, and guessing wrong
 * turns a 10 s grace period into a 10 ms one. `ms` is listed before `m` so it wins.
 */
export const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/**
 * A byte count: a whole number, or a number with a unit. k, M, G, T are powers of 1000 and
 * Ki, Mi, Gi, Ti powers of 1024, as in SI/IEC and Kubernetes; `K` is read as `k` and the
 * unit letter may be lower case (Docker writes `10m`); a trailing `B` is allowed (`10MiB`).
 */
export const SIZE_PATTERN = /^(\d+(?:\.\d+)?) ?(?:([kmgtKMGT])(i)?)?B?$/;
const SIZE_POWER: Readonly<Record<string, number>> = { k: 1, m: 2, g: 3, t: 4 };

/** Milliseconds in `text`, or undefined when it is not a duration (see DURATION_PATTERN). */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) {
    total += Number(amount) * MS_PER_UNIT[unit as keyof typeof MS_PER_UNIT];
  }
  // Sub-millisecond precision means nothing to a process supervisor.
  return Math.round(total);
}

/** Bytes in `text`, or undefined when it is not a size (see SIZE_PATTERN). */
export function parseSize(text: string): number | undefined {
  const match = SIZE_PATTERN.exec(text);
  if (!match) return undefined;
  const [, amount, letter, binary] = match;
  const power = letter ? (SIZE_POWER[letter.toLowerCase()] ?? 0) : 0;
  const base = binary ? 1024 : 1000;
  return Math.round(Number(amount) * base ** power);
}

/**
 * The shortest text parseDuration reads back as `ms`: 250 → "250ms", 90000 → "1m30s",
 * 1500 → "1.5s", 3600000 → "1h". Used in messages, plans and the default descriptions.
 */
export function formatDuration(ms: number): string {
  if (ms < 0) return `-${formatDuration(-ms)}`;
  const whole = Math.round(ms);
  if (whole < 1000) return `${whole}ms`;
  const hours = Math.floor(whole / MS_PER_UNIT.h);
  const minutes = Math.floor((whole % MS_PER_UNIT.h) / MS_PER_UNIT.m);
  const millis = whole % MS_PER_UNIT.m;
  let text = "";
  if (hours > 0) text += `${hours}h`;
  if (minutes > 0) text += `${minutes}m`;
  // Seconds keep their milliseconds as a decimal fraction: 1500 → "1.5s", not "1s500ms".
  if (millis > 0) text += `${millis / 1000}s`;
  return text;
}
