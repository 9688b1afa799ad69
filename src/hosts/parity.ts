/**
 * `baton parity dev prod`: what differs between the hosts of two environments — OS, kernel,
 * package and library versions, loaded drivers, security settings — as rows a team reads
 * (and silences with `parity.allow` for the differences it accepts).
 */
import type { ParityRow } from "../api/hosts.js";

/** What parity compares of one host, taken from its facts. */
export interface ParityFacts {
  /** `<ID>-<VERSION_ID>`, e.g. debian-12. */
  readonly os: string;
  readonly kernel: string;
  readonly packages: Readonly<Record<string, string>>;
  /** Shared library (soname) → where it resolves or its package version. */
  readonly libraries: Readonly<Record<string, string>>;
  /** Loaded kernel modules. */
  readonly drivers: readonly string[];
  readonly sysctl: Readonly<Record<string, string>>;
}

export type { ParityRow };

const MISSING = "(missing)";

/** Rows where the environments differ, allowed ones left out, in item order. */
export function compareParity(
  left: readonly ParityFacts[],
  right: readonly ParityFacts[],
  allow: readonly string[] = [],
): ParityRow[] {
  const items = new Map<string, { left: Set<string>; right: Set<string> }>();
  const add = (side: "left" | "right", item: string, value: string): void => {
    let entry = items.get(item);
    if (entry === undefined) {
      entry = { left: new Set(), right: new Set() };
      items.set(item, entry);
    }
    entry[side].add(value);
  };
  const keysOf = (
    hosts: readonly ParityFacts[],
    pick: (f: ParityFacts) => Iterable<string>,
  ): Set<string> => new Set(hosts.flatMap((f) => [...pick(f)]));
  const all = [...left, ...right];
  const packages = keysOf(all, (f) => Object.keys(f.packages));
  const libraries = keysOf(all, (f) => Object.keys(f.libraries));
  const drivers = keysOf(all, (f) => f.drivers);
  const sysctls = keysOf(all, (f) => Object.keys(f.sysctl));
  for (const [side, hosts] of [
    ["left", left],
    ["right", right],
  ] as const) {
    for (const f of hosts) {
      add(side, "os", f.os);
      add(side, "kernel", f.kernel);
      for (const p of packages) add(side, `package:${p}`, f.packages[p] ?? MISSING);
      for (const l of libraries) add(side, `library:${l}`, f.libraries[l] ?? MISSING);
      for (const d of drivers)
        add(side, `driver:${d}`, f.drivers.includes(d) ? "loaded" : "not loaded");
      for (const k of sysctls) add(side, `sysctl:${k}`, f.sysctl[k] ?? MISSING);
    }
  }
  const allowed = allow.map(globToRegExp);
  const rows: ParityRow[] = [];
  for (const [item, values] of items) {
    if (same(values.left, values.right)) continue;
    if (allowed.some((re) => re.test(item))) continue;
    rows.push({ item, left: [...values.left].sort(), right: [...values.right].sort() });
  }
  return rows.sort((a, b) => rank(a.item) - rank(b.item) || a.item.localeCompare(b.item));
}

function same(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((v) => b.has(v));
}

const ORDER = ["os", "kernel", "package", "library", "driver", "sysctl"];
function rank(item: string): number {
  return ORDER.indexOf(item.split(":")[0] ?? item);
}

/** `package:linux-image-*` → a whole-string match where `*` is any text. */
export function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}
