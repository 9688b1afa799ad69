/** Writes benchmark results: a markdown table for people and JSON beside it for tools. */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export const RESULTS_DIR = resolve(import.meta.dirname, "..", "results");

export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) =>
    `| ${r.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  return [
    line(headers),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...rows.map((r) => line(r.map(String))),
  ].join("\n");
}

function atomicWrite(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Writes `name.md` and `name.json` into the results folder; returns their paths. */
export function writeResults(
  name: string,
  markdown: string,
  data: unknown,
  dir = RESULTS_DIR,
): { markdown: string; json: string } {
  const md = join(dir, `${name}.md`);
  const json = join(dir, `${name}.json`);
  atomicWrite(md, markdown.endsWith("\n") ? markdown : `${markdown}\n`);
  atomicWrite(json, `${JSON.stringify(data, null, 2)}\n`);
  return { markdown: md, json };
}
