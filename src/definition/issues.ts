/**
 * zod issues → diagnostics. zod says "expected number, received string"; we say
 * "apps.web.replicas must be a whole number ≥ 0, found the string "three"", point at it and
 * suggest the fix. The wording comes from the FieldDoc registered on each schema field, found
 * by walking the schema along the issue's path.
 */
import { z } from "zod";
import type { Diagnostic } from "./errors.js";
import {
  describeValue,
  formatPath,
  inlineYaml,
  listWords,
  type Path,
  type PathSegment,
  subject,
} from "./phrases.js";
import { type FieldDoc, fieldDocs } from "./schema.js";
import { closestMatch } from "./suggest.js";
import type { Positions } from "./yaml-source.js";

type Schema = z.core.$ZodType;
type Issue = z.core.$ZodIssue;

export interface IssueContext {
  readonly file: string;
  readonly source: Positions;
  /** The JS value that was validated. */
  readonly raw: unknown;
  readonly schema: Schema;
}

export function schemaDiagnostics(issues: readonly Issue[], ctx: IssueContext): Diagnostic[] {
  return issues.flatMap((issue) => fromIssue(issue, toPath(issue.path), ctx));
}

function fromIssue(issue: Issue, path: Path, ctx: IssueContext): Diagnostic[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => unknownKey(path, key, ctx));
  }
  const found = valueAt(ctx.raw, path);
  if (found.missing) return [missingField(path, ctx)];
  if (issue.code === "invalid_union") {
    // A union fails as a whole; when the value clearly meant one branch (a list for a
    // command), that branch's own issues say precisely what is wrong.
    const branch = intendedBranch(issue);
    if (branch) return branch.flatMap((sub) => fromIssue(sub, [...path, ...toPath(sub.path)], ctx));
  }
  return [wrongValue(issue, path, found.value, ctx)];
}

function unknownKey(parent: Path, key: string, ctx: IssueContext): Diagnostic {
  const path = [...parent, key];
  const valid = validKeys(ctx.schema, parent);
  const suggestion = closestMatch(key, valid);
  const where = parent.length === 0 ? "at the top level" : `in ${formatPath(parent)}`;
  let hint: string | undefined;
  if (suggestion !== undefined) hint = `did you mean \`${suggestion}\`?`;
  else if (parent.length === 0)
    hint = "top-level keys starting with `x-` are ignored (for YAML anchors)";
  return {
    code: "spec.unknown_key",
    message: `${formatPath(path)} is not a valid key; valid keys ${where} are ${listWords(valid)}`,
    file: ctx.file,
    ...ctx.source.keySpan(path),
    path: formatPath(path),
    expected: `one of ${listWords(valid, "or")}`,
    found: key,
    ...(hint === undefined ? {} : { hint }),
  };
}

function missingField(path: Path, ctx: IssueContext): Diagnostic {
  const parent = path.slice(0, -1);
  const key = path[path.length - 1];
  const doc = docAt(ctx.schema, path, undefined);
  const example = doc === undefined ? "…" : inlineYaml(doc.example);
  const parentKey = parent[parent.length - 1];
  const under = parentKey === undefined ? "at the top level" : `under \`${parentKey}:\``;
  return {
    code: "spec.missing_field",
    message: `${formatPath(path)} is required`,
    file: ctx.file,
    // Nothing is written for a missing field: point at the mapping that lacks it.
    ...ctx.source.keySpan(parent),
    path: formatPath(path),
    ...(doc === undefined ? {} : { expected: doc.expected }),
    hint: `add \`${String(key)}: ${example}\` ${under}`,
  };
}

function wrongValue(issue: Issue, path: Path, value: unknown, ctx: IssueContext): Diagnostic {
  const doc = docAt(ctx.schema, path, value);
  const expected = doc?.expected ?? zodExpectation(issue);
  const found = describeValue(value);
  const wrongType = issue.code === "invalid_type" || issue.code === "invalid_union";
  const hint = doc === undefined ? undefined : fixHint(path, value, doc);
  return {
    code: wrongType ? "spec.invalid_type" : "spec.invalid_value",
    message: `${subject(path)} must be ${expected}, found ${found}`,
    file: ctx.file,
    ...ctx.source.valueSpan(path),
    path: formatPath(path),
    expected,
    found,
    ...(hint === undefined ? {} : { hint }),
  };
}

/** "write `replicas: 3`": the value guessed from what was written, else the field's example. */
function fixHint(path: Path, value: unknown, doc: FieldDoc): string | undefined {
  const key = path[path.length - 1];
  if (key === undefined) return undefined;
  const suggestion = doc.suggest?.(value);
  // A list item has no key to show the example with; only a guessed fix is worth a hint.
  if (typeof key === "number") {
    return suggestion === undefined ? undefined : `write \`${inlineYaml(suggestion)}\``;
  }
  return `write \`${key}: ${inlineYaml(suggestion ?? doc.example)}\``;
}

/** Only when a field has no FieldDoc, which is a gap in schema.ts; zod's words are a fallback. */
function zodExpectation(issue: Issue): string {
  return issue.code === "invalid_type" ? `a ${issue.expected}` : `valid (${issue.message})`;
}

/**
 * The branch of a failed union that the value was aiming at: the only one whose issues are
 * not a plain type mismatch of the value itself.
 */
function intendedBranch(issue: Issue & { code: "invalid_union" }): readonly Issue[] | undefined {
  const aimed = issue.errors.filter(
    (branch) => !branch.every((sub) => sub.path.length === 0 && sub.code === "invalid_type"),
  );
  return aimed.length === 1 ? aimed[0] : undefined;
}

function toPath(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((segment) => (typeof segment === "number" ? segment : String(segment)));
}

function valueAt(
  root: unknown,
  path: Path,
): { missing: true } | { missing: false; value: unknown } {
  let current = root;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === "number") {
      current = current[segment];
    } else if (current !== null && typeof current === "object" && !Array.isArray(current)) {
      if (!Object.hasOwn(current, segment)) return { missing: true };
      current = (current as Record<string, unknown>)[segment];
    } else {
      return { missing: true };
    }
  }
  return { missing: false, value: current };
}

// --- walking the schema along a path ---------------------------------------------------

/** `schema` and the schemas it wraps (optional, default, …), outermost first. */
function layers(schema: Schema): Schema[] {
  const all: Schema[] = [schema];
  let current = schema;
  while (
    current instanceof z.ZodOptional ||
    current instanceof z.ZodDefault ||
    current instanceof z.ZodPrefault ||
    current instanceof z.ZodNullable
  ) {
    current = current.unwrap();
    all.push(current);
  }
  return all;
}

function child(schema: Schema, segment: PathSegment): Schema | undefined {
  for (const layer of layers(schema)) {
    if (layer instanceof z.ZodObject && typeof segment === "string") return layer.shape[segment];
    if (layer instanceof z.ZodRecord) return layer.valueType;
    if (layer instanceof z.ZodArray && typeof segment === "number") return layer.element;
    if (layer instanceof z.ZodUnion) {
      for (const option of layer.options) {
        const found = child(option, segment);
        if (found) return found;
      }
    }
  }
  return undefined;
}

function schemaAt(schema: Schema, path: Path): Schema | undefined {
  let current: Schema | undefined = schema;
  for (const segment of path) {
    if (current === undefined) return undefined;
    current = child(current, segment);
  }
  return current;
}

function validKeys(schema: Schema, path: Path): string[] {
  const at = schemaAt(schema, path);
  // A union of a shorthand and a mapping (`build: ./api` or `build: { … }`): the mapping's keys.
  const object =
    at &&
    layers(at)
      .flatMap((layer) =>
        layer instanceof z.ZodUnion ? layer.options.flatMap((o) => layers(o as Schema)) : [layer],
      )
      .find((layer) => layer instanceof z.ZodObject);
  return object instanceof z.ZodObject ? Object.keys(object.shape) : [];
}

/**
 * The FieldDoc for `path`. Where the field is a union (a command is a string or a list), the
 * branch of the same kind as the value speaks, if it is documented: an empty list is told
 * what a list must be.
 */
function docAt(schema: Schema, path: Path, value: unknown): FieldDoc | undefined {
  const at = schemaAt(schema, path);
  if (at === undefined) return undefined;
  const all = layers(at);
  for (const layer of all) {
    if (!(layer instanceof z.ZodUnion)) continue;
    for (const option of layer.options) {
      const kind = layers(option).find((l) => sameKind(l, value));
      const doc = kind && firstDoc(layers(option));
      if (doc) return doc;
    }
  }
  return firstDoc(all);
}

function firstDoc(schemas: readonly Schema[]): FieldDoc | undefined {
  for (const schema of schemas) {
    const doc = fieldDocs.get(schema);
    if (doc) return doc;
  }
  return undefined;
}

function sameKind(schema: Schema, value: unknown): boolean {
  if (typeof value === "string") return schema instanceof z.ZodString;
  if (typeof value === "number") return schema instanceof z.ZodNumber;
  if (typeof value === "boolean") return schema instanceof z.ZodBoolean;
  if (Array.isArray(value)) return schema instanceof z.ZodArray;
  return false;
}
