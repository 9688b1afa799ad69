/**
 * The shell scripts modules run as `sh -c SCRIPT sh ARGS…`. Starting a new sh for each costs
 * an exec per probe; the batch runner instead defines each such script once as a function
 * of its own shell and calls it in a subshell, which only scripts written for it may be
 * (no `$0`, balanced as a function body) — so only the ones registered here are.
 */
const scripts = new Set<string>();

export function moduleScript(text: string): string {
  scripts.add(text);
  return text;
}

export function isModuleScript(text: string): boolean {
  return scripts.has(text);
}
