/**
 * The building blocks of the definition schema: a field with its documentation (description,
 * example, what was expected, a guessed fix), and the value types fields share — durations,
 * sizes, whole numbers, argv lists.
 */
import { z } from "zod";
import { DURATION_PATTERN, parseDuration, parseSize, SIZE_PATTERN } from "./units.js";

/** How a field is explained in error messages and hints. */
export interface FieldDoc {
  /** Completes "apps.web.replicas must be …": "a whole number ≥ 0". */
  readonly expected: string;
  /** A valid value, for hints ("write `replicas: 3`") and the JSON Schema `examples`. */
  readonly example: unknown;
  /** A fix guessed from what was written (10 → "10s"), when one can be. */
  readonly suggest?: (found: unknown) => unknown;
}

/** FieldDoc of each schema node; issues.ts looks fields up here by path. */
export const fieldDocs = z.registry<FieldDoc>();

/**
 * `schema` with its description and example (for the JSON Schema) and its FieldDoc (for
 * messages). `jsonSchema` adds keywords zod cannot express, such as `propertyNames`.
 */
export function documented<T extends z.ZodType>(
  schema: T,
  description: string,
  doc: FieldDoc,
  jsonSchema: Record<string, unknown> = {},
): T {
  const described = schema.meta({ ...jsonSchema, description, examples: [doc.example] });
  fieldDocs.add(described, doc);
  return described;
}

/** A quoted number ("3") was meant as the number. */
export function unquoteNumber(found: unknown): unknown {
  return typeof found === "string" && /^\d+$/.test(found.trim()) ? Number(found) : undefined;
}

export function wholeNumber(description: string, min: number, example: number) {
  return documented(z.number().int().min(min), description, {
    expected: `a whole number ≥ ${min}`,
    example,
    suggest: unquoteNumber,
  });
}

const UNIT_WORDS: Readonly<Record<string, string>> = {
  ms: "ms",
  msec: "ms",
  msecs: "ms",
  millis: "ms",
  millisecond: "ms",
  milliseconds: "ms",
  s: "s",
  sec: "s",
  secs: "s",
  second: "s",
  seconds: "s",
  m: "m",
  min: "m",
  mins: "m",
  minute: "m",
  minutes: "m",
  h: "h",
  hr: "h",
  hrs: "h",
  hour: "h",
  hours: "h",
};

/** `10` → `10s`, `"10 secs"` → `10s`: the likely intent of a duration that did not parse. */
function suggestDuration(found: unknown): unknown {
  if (typeof found === "number" && found >= 0) return `${found}s`;
  if (typeof found !== "string") return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(found);
  if (!match) return undefined;
  const [, amount, word = ""] = match;
  const unit = word === "" ? "s" : UNIT_WORDS[word.toLowerCase()];
  const fixed = unit === undefined ? undefined : `${amount}${unit}`;
  return fixed !== undefined && parseDuration(fixed) !== undefined ? fixed : undefined;
}

export function duration(description: string, example: string) {
  return documented(z.string().regex(DURATION_PATTERN), description, {
    expected: "a duration such as 500ms, 10s or 1m30s",
    example,
    suggest: suggestDuration,
  });
}

/** `"10 mb"` → `10M`, `"1 gib"` → `1Gi`: the unit as we spell it. */
function suggestSize(found: unknown): unknown {
  if (typeof found !== "string") return undefined;
  const fixed = found
    .replaceAll(/\s+/g, "")
    .replace(/([kmgt])(i?)b?$/i, (_, l: string, i: string) => {
      return `${l.toUpperCase()}${i.toLowerCase()}`;
    });
  return parseSize(fixed) !== undefined && fixed !== found ? fixed : undefined;
}

export function size(description: string, example: string) {
  const text = z
    .string()
    .regex(SIZE_PATTERN)
    .refine((s) => (parseSize(s) ?? 0) >= 1);
  return documented(z.union([z.number().int().min(1), text]), description, {
    expected: "a size such as 512k, 10Mi or 1G",
    example,
    suggest: suggestSize,
  });
}

/** argv items: scalars are accepted and kept as written (`8080`, not re-printed numbers). */
export const argument = documented(
  z.union([z.string(), z.number(), z.boolean()]),
  "One argument; numbers and booleans are kept exactly as written.",
  { expected: "a string", example: "server.js" },
);

export function argv(description: string, example: readonly string[]) {
  return documented(z.array(argument).min(1), description, {
    expected: "a non-empty list of arguments",
    example,
  });
}

/** `{ secret: NAME }`: a value kept encrypted in `secrets/<env>.age.yaml` (security/secrets). */
export const secretReference = documented(
  z.strictObject({
    secret: documented(z.string().min(1), "The secret's name, as `baton secret ls` lists it.", {
      expected: "a secret name",
      example: "db-password",
    }),
  }),
  "The value of the secret NAME, decrypted by the controller; never shown.",
  { expected: "{ secret: NAME }", example: { secret: "db-password" } },
);
