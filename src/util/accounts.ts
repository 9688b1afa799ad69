/**
 * Users and groups of this machine, as `user:` and `group:` of a process app name them.
 * Looked up with `getent`, so that users from LDAP or sssd are found as the kernel's login
 * tools find them, not only those of /etc/passwd (about 2 ms a lookup).
 */
import { spawnSync } from "node:child_process";

export interface Account {
  /** The passwd name; absent for a bare `UID:GID` that no passwd entry has. */
  readonly name?: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export interface Accounts {
  /** The passwd entry of a name or a numeric uid; undefined when there is none. */
  user(nameOrUid: string): Account | undefined;
  /** The gid of a group name or number; undefined when there is no such group. */
  group(nameOrGid: string): number | undefined;
  /** The uid and gid this process runs as: only root may start processes as someone else. */
  readonly selfUid: number;
  readonly selfGid: number;
}

export const systemAccounts: Accounts = {
  user(nameOrUid) {
    const fields = getent("passwd", nameOrUid);
    if (fields === undefined) return undefined;
    const [name, , uid, gid, , home] = fields;
    if (name === undefined || uid === undefined || gid === undefined) return undefined;
    return { name, uid: Number(uid), gid: Number(gid), home: home || "/" };
  },
  group(nameOrGid) {
    const gid = getent("group", nameOrGid)?.[2];
    if (gid !== undefined) return Number(gid);
    return undefined;
  },
  selfUid: process.getuid?.() ?? 0,
  selfGid: process.getgid?.() ?? 0,
};

/**
 * Answers kept this long: every start of a replica that runs as a user looks its user up,
 * and a synchronous `getent` on the heal path blocks the controller ~2 ms each time. nscd
 * keeps passwd answers 600 s; a user changed by hand is seen within this. A user not found
 * is not kept: the hint of that error is `useradd`, and the next apply must see the user.
 */
const LOOKUP_TTL_MS = 30_000;
const lookups = new Map<string, { readonly at: number; readonly fields: string[] }>();

function getent(database: "passwd" | "group", key: string): string[] | undefined {
  const id = `${database}\0${key}`;
  const now = Date.now();
  const known = lookups.get(id);
  if (known !== undefined && now - known.at < LOOKUP_TTL_MS) return known.fields;
  const found = spawnSync("getent", [database, key], { encoding: "utf8" });
  const line = found.status === 0 ? found.stdout.split("\n")[0] : undefined;
  const fields = line === undefined || line === "" ? undefined : line.split(":");
  if (fields !== undefined) lookups.set(id, { at: now, fields });
  return fields;
}

/** Who a replica runs as, or why it cannot: `user` and `group` as the definition writes them. */
export type RunAsResult =
  | { readonly ok: true; readonly account: Account }
  | {
      readonly ok: false;
      readonly code: "spec.unknown_user" | "spec.unknown_group" | "spec.run_as_needs_root";
      readonly field: "user" | "group";
      readonly message: string;
      readonly hint: string;
    };

const NUMBER = /^\d+$/;

/**
 * `user` is `NAME`, `UID`, `NAME:GROUP` or `UID:GID`; `group` (a name or a gid) replaces the
 * user's own group. A uid without a passwd entry needs its gid (`UID:GID`): it then runs with
 * HOME=/ and no supplementary groups, as systemd does for such a user.
 */
export function resolveRunAs(
  user: string | undefined,
  group: string | undefined,
  accounts: Accounts,
): RunAsResult | undefined {
  if (user === undefined && group === undefined) return undefined;
  const [who = "", own] = (user ?? String(accounts.selfUid)).split(":", 2);
  const entry = accounts.user(who);
  const groupName = group ?? own;
  let gid = entry?.gid;
  if (groupName !== undefined) {
    gid = accounts.group(groupName) ?? (NUMBER.test(groupName) ? Number(groupName) : undefined);
    if (gid === undefined) {
      return {
        ok: false,
        code: "spec.unknown_group",
        field: group === undefined ? "user" : "group",
        message: `there is no group ${JSON.stringify(groupName)} on this machine`,
        hint: `create it (\`groupadd --system ${groupName}\`), or give a numeric gid`,
      };
    }
  }
  if (entry === undefined && !(NUMBER.test(who) && gid !== undefined)) {
    const numeric = NUMBER.test(who);
    return {
      ok: false,
      code: "spec.unknown_user",
      field: "user",
      message: numeric
        ? `uid ${who} has no passwd entry on this machine, so its group is not known`
        : `there is no user ${JSON.stringify(who)} on this machine`,
      hint: numeric
        ? `write \`user: "${who}:GID"\` with the group to run as`
        : `create it (\`useradd --system --no-create-home ${who}\`), or write \`user: "UID:GID"\``,
    };
  }
  const account: Account =
    entry === undefined
      ? { uid: Number(who), gid: gid ?? 0, home: "/" }
      : { ...entry, gid: gid ?? entry.gid };
  const other = account.uid !== accounts.selfUid || account.gid !== accounts.selfGid;
  if (accounts.selfUid !== 0 && other) {
    return {
      ok: false,
      code: "spec.run_as_needs_root",
      field: "user",
      message: `the controller runs as uid ${accounts.selfUid}: only root can start replicas as ${account.uid}:${account.gid}`,
      hint: "run the controller (`baton up`) as root, or leave out `user:` to run as the controller's user",
    };
  }
  return { ok: true, account };
}
