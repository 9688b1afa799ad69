/** One place where two JSON-like values differ; `from` or `to` is undefined where absent. */
export interface ValueChange {
  /** As a person reads it: `env.GREETING`, `command[2]`, `labels["app.kind"]`. */
  readonly path: string;
  /** The same path as keys and indexes, for callers that decide by where a change is. */
  readonly at: readonly (string | number)[];
  readonly from: unknown;
  readonly to: unknown;
}

/**
 * Where two JSON-like values differ, knowing nothing of what they describe: objects are
 * compared key by key (the keys of `to` in its order, then those only `from` has), arrays of
 * one length element by element, and anything else as a whole: a scalar, an array whose
 * length changed (an inserted argument would otherwise shift every later index into a
 * change of its own), a value whose type changed. An absent key and `undefined` are the same.
 */
export function structuralDiff(from: unknown, to: unknown): ValueChange[] {
  const changes: ValueChange[] = [];
  walk(from, to, [], changes);
  return changes;
}

function walk(
  from: unknown,
  to: unknown,
  at: readonly (string | number)[],
  changes: ValueChange[],
): void {
  const fromObject = isRecord(from) || from === undefined;
  const toObject = isRecord(to) || to === undefined;
  // An object that appears or goes is compared key by key too: each of its keys is named.
  if (fromObject && toObject && (isRecord(from) || isRecord(to))) {
    const before = isRecord(from) ? from : {};
    const after = isRecord(to) ? to : {};
    const keys = [...Object.keys(after), ...Object.keys(before).filter((k) => !(k in after))];
    for (const key of keys) walk(before[key], after[key], [...at, key], changes);
    return;
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length) {
    for (let i = 0; i < from.length; i++) walk(from[i], to[i], [...at, i], changes);
    return;
  }
  if (from !== to) changes.push({ path: pathText(at), at, from, to });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Plain keys joined by dots; a key a dot would make ambiguous is quoted in brackets. */
function pathText(at: readonly (string | number)[]): string {
  let text = "";
  for (const part of at) {
    if (typeof part === "number") text += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) text += text === "" ? part : `.${part}`;
    else text += `[${JSON.stringify(part)}]`;
  }
  return text;
}
