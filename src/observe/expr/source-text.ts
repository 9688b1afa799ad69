import type { Expr } from "./ast.js";

/**
 * The text each parsed expression came from, so later checks can report line and column
 * without every caller passing the text along again. Weak: it goes with the tree.
 */
const texts = new WeakMap<Expr, string>();

export function rememberText(expr: Expr, text: string): void {
  texts.set(expr, text);
}

/** The text `expr` was parsed from; for a hand-built tree, none (columns then count from 1). */
export function textOf(expr: Expr): string {
  return texts.get(expr) ?? "";
}
