/**
 * Who a pipeline step without `image:` runs as. A committer controls what a step does, so it
 * must not run with the controller's powers: a root controller switches to the dedicated
 * `baton-step` system user (created on first use, as package installers create service
 * users) or to the step's `user:`. A controller that is not root cannot switch: it runs the
 * step as itself and says so in the step's log — as a CI runner installed as an ordinary user
 * does — but refuses a `user:` it cannot honour rather than ignore it.
 */
import { execFile } from "node:child_process";
import { userInfo } from "node:os";
import { SandboxError } from "./errors.js";

export const STEP_USER = "baton-step";
/** The default user's home: its tools' caches (~/.npm, ~/.cache) live there between runs. */
const STEP_USER_HOME = "/var/lib/baton-step";

export interface StepIdentity {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export type HostStepUser =
  /** The step runs as this identity (the controller is root and switches to it). */
  | { readonly kind: "switch"; readonly identity: StepIdentity; readonly note?: string }
  /** The step runs as the controller's own user; `warning` says why that is not sandboxed. */
  | { readonly kind: "self"; readonly warning?: string };

/** Creations under way or done, per name: two steps starting at once create the user once. */
const created = new Map<string, Promise<void>>();

/**
 * The identity for a host step that asks for `requested` (its `user:`, or none). Rejects with
 * a SandboxError naming the user and the fix when it cannot be had.
 */
export async function hostStepUser(requested: string | undefined): Promise<HostStepUser> {
  const myUid = process.getuid?.() ?? 0;
  if (myUid !== 0) return notRoot(requested, myUid);
  const wanted = requested ?? STEP_USER;
  let identity = await lookUp(wanted);
  if (identity === undefined && wanted === STEP_USER) {
    await createStepUser();
    identity = await lookUp(wanted);
  }
  if (identity === undefined) {
    throw new SandboxError(
      "step.unknown_user",
      `the step's user ${wanted} does not exist on this host`,
      `create it (useradd --system --create-home ${wanted}), write \`user: UID:GID\`, or remove \`user:\` to run as ${STEP_USER}`,
    );
  }
  if (identity.uid === 0) {
    return {
      kind: "switch",
      identity,
      note: `runs as ${wanted} (uid 0) as its \`user:\` says: not sandboxed, it can read the controller's state and token`,
    };
  }
  return { kind: "switch", identity };
}

function notRoot(requested: string | undefined, myUid: number): HostStepUser {
  const me = userInfo();
  if (requested === undefined) {
    return {
      kind: "self",
      warning: `not sandboxed: the controller runs as ${me.username} (uid ${myUid}), not root, so it cannot switch to ${STEP_USER}; this step can read whatever ${me.username} can, the state directory and its token included — run the controller as root, or give the step an \`image:\``,
    };
  }
  if (
    requested === me.username ||
    requested === String(myUid) ||
    requested === `${myUid}:${process.getgid?.() ?? myUid}`
  ) {
    return { kind: "self" };
  }
  throw new SandboxError(
    "step.cannot_switch_user",
    `the step's \`user: ${requested}\` cannot be honoured: the controller runs as ${me.username} (uid ${myUid}), not root, and cannot switch users`,
    "run the controller as root, or remove `user:` from the step",
  );
}

/** `NAME`, `UID` or `UID:GID`; undefined when no such user (a bare UID:GID always exists). */
async function lookUp(user: string): Promise<StepIdentity | undefined> {
  const pair = /^(\d+):(\d+)$/.exec(user);
  if (pair !== null) {
    const uid = Number(pair[1]);
    const known = await passwdEntry(String(uid));
    return { name: known?.name ?? user, uid, gid: Number(pair[2]), home: known?.home ?? "/" };
  }
  return passwdEntry(user);
}

async function passwdEntry(key: string): Promise<StepIdentity | undefined> {
  const found = await command("getent", ["passwd", key]);
  if (found.code !== 0) return undefined;
  const [name, , uid, gid, , home] = found.stdout.trim().split("\n")[0]?.split(":") ?? [];
  if (name === undefined || uid === undefined || gid === undefined) return undefined;
  return { name, uid: Number(uid), gid: Number(gid), home: home || "/" };
}

function createStepUser(): Promise<void> {
  let creation = created.get(STEP_USER);
  if (creation === undefined) {
    creation = (async () => {
      const made = await command("useradd", [
        "--system",
        "--user-group",
        "--create-home",
        "--home-dir",
        STEP_USER_HOME,
        "--shell",
        "/usr/sbin/nologin",
        "--comment",
        "Baton pipeline steps",
        STEP_USER,
      ]);
      // 9: another controller created it meanwhile.
      if (made.code !== 0 && made.code !== 9) {
        created.delete(STEP_USER);
        throw new SandboxError(
          "step.user_not_created",
          `could not create the ${STEP_USER} system user for pipeline steps: useradd exited ${made.code}: ${made.stderr.trim()}`,
          `create it yourself (useradd --system --user-group --create-home --home-dir ${STEP_USER_HOME} --shell /usr/sbin/nologin ${STEP_USER}), or name an existing user with the step's \`user:\``,
        );
      }
    })();
    created.set(STEP_USER, creation);
  }
  return creation;
}

function command(
  file: string,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 127;
      resolve({ code, stdout, stderr });
    });
  });
}
