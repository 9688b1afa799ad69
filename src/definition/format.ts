/**
 * Renders diagnostics the way STYLE.md shows them (after rustc): a headline, the location,
 * the offending line with the span underlined, and a hint. Pure text in, text out.
 */
import type { Diagnostic } from "./errors.js";
import { maskedText, secretRanges } from "./secret-spans.js";

type Style = "error" | "bold" | "gutter" | "caret" | "hint";

const ANSI: Readonly<Record<Style, string>> = {
  error: "\u001b[1;31m",
  bold: "\u001b[1m",
  gutter: "\u001b[1;36m",
  caret: "\u001b[1;31m",
  hint: "\u001b[1;36m",
};
const RESET = "\u001b[0m";

/** Tabs are shown as this many spaces so that the caret line stays aligned. */
const TAB_WIDTH = 4;

export interface RenderOptions {
  color: boolean;
  /** Text of each file, by the `file` of its diagnostics. */
  sources: ReadonlyMap<string, string>;
}

/** All diagnostics, a blank line between them, then the summary line. */
export function formatDiagnostics(
  diagnostics: readonly Diagnostic[],
  options: RenderOptions,
): string {
  const paint = (style: Style, text: string): string =>
    options.color ? `${ANSI[style]}${text}${RESET}` : text;
  // The line shown under an error never shows a secret (a webhook URL's token): masked.
  const masked = new Map<string, string>();
  const sourceOf = (file: string): string | undefined => {
    const text = options.sources.get(file);
    if (text === undefined) return undefined;
    let shown = masked.get(file);
    if (shown === undefined) {
      shown = maskedText(text, secretRanges(text));
      masked.set(file, shown);
    }
    return shown;
  };
  const blocks = diagnostics.map((d) => formatOne(d, sourceOf(d.file), paint));
  blocks.push(paint("bold", summaryLine(diagnostics)));
  return blocks.join("\n\n");
}

/** "2 errors in baton.yaml; nothing was applied". */
export function summaryLine(diagnostics: readonly Diagnostic[]): string {
  const files = [...new Set(diagnostics.map((d) => d.file))];
  const count = diagnostics.length === 1 ? "1 error" : `${diagnostics.length} errors`;
  const where = files.length > 0 ? ` in ${files.join(", ")}` : "";
  return `${count}${where}; nothing was applied`;
}

function formatOne(
  d: Diagnostic,
  source: string | undefined,
  paint: (style: Style, text: string) => string,
): string {
  const hasPosition = d.line > 0;
  // The gutter is as wide as the line number, so `-->`, `|` and `hint:` line up under it.
  const width = hasPosition ? String(d.line).length : 2;
  const pad = " ".repeat(width);
  const lines = [`${paint("error", `error[${d.code}]`)} ${paint("bold", d.message)}`];
  const location = hasPosition ? `${d.file}:${d.line}:${d.col}` : d.file;
  lines.push(`${pad}${paint("gutter", "-->")} ${location}`);

  const text = hasPosition && source !== undefined ? source.split(/\r?\n/)[d.line - 1] : undefined;
  if (text !== undefined) {
    const before = expandTabs(text.slice(0, d.col - 1));
    const available = Math.max(1, text.length - (d.col - 1));
    const span = expandTabs(
      text.slice(d.col - 1, d.col - 1 + Math.min(Math.max(1, d.length), available)),
    );
    const shown = expandTabs(text).trimEnd();
    lines.push(`${pad} ${paint("gutter", "|")}`);
    lines.push(`${paint("gutter", `${d.line} |`)}${shown === "" ? "" : ` ${shown}`}`);
    const carets = "^".repeat(Math.max(1, span.length));
    lines.push(
      `${pad} ${paint("gutter", "|")} ${" ".repeat(before.length)}${paint("caret", carets)}`,
    );
  }
  if (d.hint !== undefined) lines.push(`${pad}${paint("hint", "hint:")} ${d.hint}`);
  return lines.join("\n");
}

function expandTabs(text: string): string {
  return text.replaceAll("\t", " ".repeat(TAB_WIDTH));
}
