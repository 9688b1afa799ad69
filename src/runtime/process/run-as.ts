/**
 * A process replica run as another user (`user:`, `group:`), as systemd's User= does: its
 * uid, its gid and the supplementary groups of that user (initgroups), HOME its home.
 *
 * Node's spawn can set uid and gid but clears the supplementary groups, which a user such
 * as postgres (member of ssl-cert for its keys) needs. So the replica is exec'd through
 * util-linux's `setpriv --reuid --regid --init-groups`, which changes identity and execs the
 * command in place: the replica's pid stays the group leader Baton signals, and every process
 * it forks inherits the identity. Measured here: ~5 ms more per start than Node's own
 * uid/gid (one exec more plus the group lookup), small beside any server's start-up.
 *
 * What the user may reach of the state directory: its snapshot (owned by it: the replica
 * may write there, as it could as root), its live log file (owned by it, for apps that reopen
 * /dev/stdout), and the folders above its snapshot only as far as passing through (o+x:
 * 0711 where the sandbox left 0700), never listing or reading them. The FIFO and the log
 * descriptors are inherited, so the rest — records, FIFOs, rotated logs, state.db — stays
 * the controller's alone.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, fchownSync, lchownSync, lstatSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { AppSpec } from "../../definition/index.js";
import { type Account, type Accounts, resolveRunAs, systemAccounts } from "../../util/accounts.js";

/** The identity a replica is started with, kept in its spec's driver options. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  /** Absent for a bare UID:GID with no passwd entry: no supplementary groups then. */
  readonly name?: string;
}

/** Who `app`'s replicas run as; undefined when as the controller. Throws what the user must fix. */
export function runAsOf(app: AppSpec, accounts: Accounts = systemAccounts): RunAs | undefined {
  const resolved = resolveRunAs(app.runAs?.user, app.runAs?.group, accounts);
  if (resolved === undefined) return undefined;
  if (!resolved.ok) {
    throw new Error(`apps.${app.name}.${resolved.field}: ${resolved.message}; ${resolved.hint}`);
  }
  const account: Account = resolved.account;
  if (account.uid === accounts.selfUid && account.gid === accounts.selfGid) return undefined;
  return {
    uid: account.uid,
    gid: account.gid,
    home: account.home,
    ...(account.name === undefined ? {} : { name: account.name }),
  };
}

/** The argv that starts `file args` as `runAs`. */
export function runAsArgv(runAs: RunAs, file: string, args: readonly string[]): string[] {
  return [
    "setpriv",
    `--reuid=${runAs.uid}`,
    `--regid=${runAs.gid}`,
    runAs.name === undefined ? "--clear-groups" : "--init-groups",
    "--",
    file,
    ...args,
  ];
}

/**
 * Lets `runAs` read (and write) its snapshot `dir` and pass through the folders from
 * `stateDir` down to it. A snapshot is shared by the revisions of one content, so it is
 * handed over again when a revision with another user starts from it.
 */
export function grantSnapshot(stateDir: string, dir: string, runAs: RunAs): void {
  const root = resolve(stateDir);
  const inside = relative(root, resolve(dir));
  if (inside.startsWith("..") || inside === "") return;
  assertReachable(root, runAs);
  let folder = root;
  for (const part of dirname(inside).split(sep)) {
    passable(folder);
    if (part !== "." && part !== "") folder = join(folder, part);
  }
  passable(folder);
  // A release (`<state>/artifacts/`) is shared and immutable: passed through, never handed over.
  if (!inside.startsWith(`snapshots${sep}`)) return;
  const stats = statSync(dir);
  if (stats.uid === runAs.uid && stats.gid === runAs.gid) return;
  chownTree(dir, runAs.uid, runAs.gid);
}

/** The live log file belongs to the replica writing it (opened by the controller as `fd`). */
export function grantLog(fd: number, runAs: RunAs): void {
  fchownSync(fd, runAs.uid, runAs.gid);
}

/**
 * The folders above the state directory are the user's, not Baton's: when `runAs` cannot
 * pass through one of them, its replica could not open its own files, so it is not started.
 */
function assertReachable(root: string, runAs: RunAs): void {
  let groups: readonly number[] | undefined;
  const inGroup = (gid: number): boolean => {
    groups ??= groupsOf(runAs);
    return groups.includes(gid);
  };
  for (let folder = dirname(root); ; folder = dirname(folder)) {
    const stats = statSync(folder);
    const mode = stats.mode & 0o777;
    const passes =
      (mode & 0o001) !== 0 ||
      (stats.uid === runAs.uid && (mode & 0o100) !== 0) ||
      ((mode & 0o010) !== 0 && inGroup(stats.gid));
    if (!passes) {
      throw new Error(
        `${describe(runAs)} cannot pass through ${folder} (mode ${mode.toString(8).padStart(4, "0")}, owner uid ${stats.uid}), ` +
          `above the state directory its replicas run from; chmod o+x ${folder} (passing through only, no listing), ` +
          "or keep the state directory (`--state`) under folders it can pass through",
      );
    }
    if (folder === dirname(folder)) return;
  }
}

function groupsOf(runAs: RunAs): number[] {
  if (runAs.name === undefined) return [runAs.gid];
  const listed = spawnSync("id", ["-G", runAs.name], { encoding: "utf8" });
  const ids = listed.status === 0 ? listed.stdout.trim().split(/\s+/).map(Number) : [];
  return [runAs.gid, ...ids];
}

function describe(runAs: RunAs): string {
  return runAs.name === undefined ? `uid ${runAs.uid}` : `user ${runAs.name}`;
}

/** o+x and g+x, nothing more: the user may pass through, not list nor read. */
function passable(folder: string): void {
  const mode = statSync(folder).mode & 0o7777;
  if ((mode & 0o011) !== 0o011) chmodSync(folder, mode | 0o011);
}

function chownTree(path: string, uid: number, gid: number): void {
  lchownSync(path, uid, gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name), uid, gid);
}
