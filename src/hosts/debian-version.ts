/**
 * Debian version order (deb-version(7)): `[epoch:]upstream[-revision]`, compared part by part;
 * within a part, runs of non-digits (where `~` sorts before everything, even the end, and
 * letters before other characters) alternate with numbers compared as numbers. So
 * 1.22.1-9 > 1.22, 1.0~rc1 < 1.0, and 2:0.1 > 1:9.
 */
export function compareDebianVersions(a: string, b: string): number {
  const pa = split(a);
  const pb = split(b);
  return (
    pa.epoch - pb.epoch ||
    compareParts(pa.upstream, pb.upstream) ||
    compareParts(pa.revision, pb.revision)
  );
}

function split(version: string): { epoch: number; upstream: string; revision: string } {
  const colon = version.indexOf(":");
  const epoch = colon > 0 ? Number(version.slice(0, colon)) || 0 : 0;
  const rest = colon > 0 ? version.slice(colon + 1) : version;
  const dash = rest.lastIndexOf("-");
  return dash > 0
    ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) }
    : { epoch, upstream: rest, revision: "" };
}

function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === "~") return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function compareParts(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // The non-digit run, character by character.
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ca = i < a.length && !isDigit(a[i]) ? a[i] : undefined;
      const cb = j < b.length && !isDigit(b[j]) ? b[j] : undefined;
      const diff = order(ca) - order(cb);
      if (diff !== 0) return diff;
      if (ca !== undefined) i++;
      if (cb !== undefined) j++;
    }
    // The digit run, as a number.
    let na = "";
    let nb = "";
    while (i < a.length && isDigit(a[i])) na += a[i++];
    while (j < b.length && isDigit(b[j])) nb += b[j++];
    const diff = Number(na || "0") - Number(nb || "0");
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/** `>=1.22`, `<2`, `=1.22.1-9`, `1.22.1-9` (exact): whether `version` satisfies it. */
export function satisfies(version: string, constraint: string): boolean {
  const match = /^\s*(>=|<=|>>|<<|>|<|=|==)?\s*(\S+)\s*$/.exec(constraint);
  if (match === null) return false;
  const [, op = "=", wanted = ""] = match;
  const c = compareDebianVersions(version, wanted);
  switch (op) {
    case ">=":
      return c >= 0;
    case "<=":
      return c <= 0;
    case ">":
    case ">>":
      return c > 0;
    case "<":
    case "<<":
      return c < 0;
    default:
      return c === 0;
  }
}
