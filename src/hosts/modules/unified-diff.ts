/**
 * A unified diff (`diff -u` style) of two texts, for plans: what a file's content becomes.
 * Lines are compared with their line ending, so a lost final newline shows as a change.
 */

export interface UnifiedDiffOptions {
  /** Header names; "/dev/null" on the side that is empty when it is a new or removed file. */
  readonly fromLabel?: string;
  readonly toLabel?: string;
  /** Unchanged lines shown around each change. */
  readonly context?: number;
}

type Op = { readonly kind: " " | "-" | "+"; readonly line: string };

/** The cell budget of the line-by-line comparison; beyond it the middle is shown replaced. */
const MAX_CELLS = 4_000_000;

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(/(?<=\n)/);
  return lines;
}

function editScript(a: readonly string[], b: readonly string[]): Op[] {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  ) {
    suffix++;
  }
  const ops: Op[] = a.slice(0, prefix).map((line) => ({ kind: " ", line }));
  const midA = a.slice(prefix, a.length - suffix);
  const midB = b.slice(prefix, b.length - suffix);
  ops.push(...middleScript(midA, midB));
  for (const line of a.slice(a.length - suffix)) ops.push({ kind: " ", line });
  return ops;
}

/** Longest common subsequence by dynamic programming, over the part that differs. */
function middleScript(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0 || (n + 1) * (m + 1) > MAX_CELLS) {
    return [
      ...a.map((line) => ({ kind: "-" as const, line })),
      ...b.map((line) => ({ kind: "+" as const, line })),
    ];
  }
  const width = m + 1;
  // lengths[i * width + j]: LCS length of a[i..] and b[j..]
  const lengths = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * width + j] =
        a[i] === b[j]
          ? lengths[(i + 1) * width + j + 1]! + 1
          : Math.max(lengths[(i + 1) * width + j]!, lengths[i * width + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i]! });
      i++;
      j++;
    } else if (lengths[(i + 1) * width + j]! >= lengths[i * width + j + 1]!) {
      ops.push({ kind: "-", line: a[i]! });
      i++;
    } else {
      ops.push({ kind: "+", line: b[j]! });
      j++;
    }
  }
  while (i < n) ops.push({ kind: "-", line: a[i++]! });
  while (j < m) ops.push({ kind: "+", line: b[j++]! });
  return ops;
}

function renderLine(op: Op): string {
  if (op.line.endsWith("\n")) return `${op.kind}${op.line}`;
  return `${op.kind}${op.line}\n\\ No newline at end of file\n`;
}

function range(start: number, length: number): string {
  // diff's convention: an empty range names the line before it.
  const first = length === 0 ? start : start + 1;
  return length === 1 ? `${first}` : `${first},${length}`;
}

/** "" when the texts are equal. */
export function unifiedDiff(from: string, to: string, options: UnifiedDiffOptions = {}): string {
  if (from === to) return "";
  const context = options.context ?? 3;
  const ops = editScript(splitLines(from), splitLines(to));
  const changed = ops.flatMap((op, index) => (op.kind === " " ? [] : [index]));
  // Hunks: runs of changes whose context overlaps or touches.
  const hunks: [number, number][] = [];
  for (const index of changed) {
    const start = Math.max(0, index - context);
    const end = Math.min(ops.length, index + context + 1);
    const last = hunks[hunks.length - 1];
    if (last !== undefined && start <= last[1]) last[1] = end;
    else hunks.push([start, end]);
  }
  // Line numbers (0-based) in each text where every op begins.
  const aAt: number[] = [];
  const bAt: number[] = [];
  let a = 0;
  let b = 0;
  for (const op of ops) {
    aAt.push(a);
    bAt.push(b);
    if (op.kind !== "+") a++;
    if (op.kind !== "-") b++;
  }
  let out = `--- ${options.fromLabel ?? "a"}\n+++ ${options.toLabel ?? "b"}\n`;
  for (const [start, end] of hunks) {
    const slice = ops.slice(start, end);
    const aLength = slice.filter((op) => op.kind !== "+").length;
    const bLength = slice.filter((op) => op.kind !== "-").length;
    out += `@@ -${range(aAt[start]!, aLength)} +${range(bAt[start]!, bLength)} @@\n`;
    for (const op of slice) out += renderLine(op);
  }
  return out;
}
