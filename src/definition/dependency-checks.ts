/**
 * `apps.X.dependsOn`: each entry names another app of the definition, and the apps never wait
 * for each other in a cycle, where none of them could ever start. A cycle is reported once, at
 * the entry that closes it (the last edge followed in file order), naming every app on it.
 * Swarm apps take no part: Swarm starts services in no order, and the apps reconciler, which
 * holds a replica's start until its dependencies are ready, does not run them.
 */
import { findCycle } from "../engine/index.js";
import type { Report } from "./checks.js";
import { type Fields, isFields } from "./fields.js";
import { formatPath, listWords, type Path } from "./phrases.js";
import { closestMatch } from "./suggest.js";

export function checkDependencies(apps: Fields, report: Report): void {
  const names = Object.keys(apps);
  // app → the apps it waits for, each with the index of its entry (for positions).
  const edges = new Map<string, Map<string, number>>();
  for (const [name, app] of Object.entries(apps)) {
    if (!isFields(app) || !Array.isArray(app.dependsOn)) continue;
    const path = ["apps", name, "dependsOn"];
    const own = new Map<string, number>();
    edges.set(name, own);
    const swarm = app.runtime === "swarm";
    if (swarm && app.dependsOn.length > 0) swarmDependent(name, path, report);
    for (const [index, dep] of app.dependsOn.entries()) {
      if (typeof dep !== "string" || dep === "") continue;
      const at = [...path, index];
      if (dep === name) selfDependency(name, at, report);
      else if (!names.includes(dep)) unknownApp(dep, at, names, report);
      else {
        const target = apps[dep];
        if (!swarm && isFields(target) && target.runtime === "swarm") {
          swarmDependency(dep, at, report);
        }
        if (!own.has(dep)) own.set(dep, index);
      }
    }
  }
  for (const cycle of cycles(names, edges)) {
    const from = cycle.at(-2);
    const to = cycle.at(-1);
    const index = from === undefined || to === undefined ? undefined : edges.get(from)?.get(to);
    if (from === undefined || index === undefined) continue;
    const at = ["apps", from, "dependsOn", index];
    const shown = cycle.join(" → ");
    report(
      "spec.dependency_cycle",
      at,
      "value",
      `${formatPath(at)} closes the dependency cycle ${shown}: each of these apps waits for the next to be ready, so none of them could ever start`,
      `remove one of these dependencies: ${listWords(edgesOf(cycle), "or")}`,
      { expected: "apps that do not wait for each other", found: shown },
    );
  }
}

/**
 * Every cycle, each as the path that closes it: once found, its closing edge is set aside
 * and the search goes on, so two cycles are two problems and one is never reported twice.
 */
function cycles(names: readonly string[], edges: ReadonlyMap<string, Map<string, number>>) {
  const removed = new Set<string>();
  const found: string[][] = [];
  for (;;) {
    const cycle = findCycle(names, (node) =>
      [...(edges.get(node)?.keys() ?? [])].filter((next) => !removed.has(`${node}\0${next}`)),
    );
    if (cycle === undefined) return found;
    found.push(cycle);
    removed.add(`${cycle.at(-2)}\0${cycle.at(-1)}`);
  }
}

/** `["web", "api", "web"]` → "`api` from apps.web.dependsOn", "`web` from apps.api.dependsOn". */
function edgesOf(cycle: readonly string[]): string[] {
  return cycle
    .slice(1)
    .map((to, i) => `\`${to}\` from ${formatPath(["apps", cycle[i] ?? "", "dependsOn"])}`);
}

function selfDependency(name: string, at: Path, report: Report): void {
  report(
    "spec.self_dependency",
    at,
    "value",
    `${formatPath(at)}: ${name} depends on itself, so it would wait for its own readiness and never start`,
    `remove \`${name}\` from its own dependsOn`,
    { expected: "another app", found: name },
  );
}

function unknownApp(dep: string, at: Path, names: readonly string[], report: Report): void {
  const close = closestMatch(dep, names);
  report(
    "spec.unknown_app",
    at,
    "value",
    `${formatPath(at)} names ${dep}, which is not an app of \`apps:\``,
    close !== undefined
      ? `did you mean \`${close}\`?`
      : "add the app under `apps:`, or remove it from dependsOn",
    { expected: names.length > 0 ? `one of ${listWords(names, "or")}` : "an app name", found: dep },
  );
}

function swarmDependent(name: string, path: Path, report: Report): void {
  report(
    "spec.invalid_value",
    path,
    "key",
    `${formatPath(path)}: ${name} runs as a Swarm service, and Swarm starts services in no order`,
    `remove dependsOn, or run ${name} with runtime: process or docker (in an environment's overrides, \`dependsOn: null\` removes it)`,
    { expected: "no dependsOn with runtime: swarm", found: "runtime: swarm" },
  );
}

function swarmDependency(dep: string, at: Path, report: Report): void {
  report(
    "spec.invalid_value",
    at,
    "value",
    `${formatPath(at)} names ${dep}, a swarm app: Baton waits for the readiness of process and docker apps only`,
    `remove ${dep} from dependsOn, or run ${dep} with runtime: process or docker`,
    { expected: "a process or docker app", found: `${dep} (runtime: swarm)` },
  );
}
