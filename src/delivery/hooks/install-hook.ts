import { chmod, lstat, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { DeliveryError } from "../errors.js";
import { gitFailure } from "../git/git-failure.js";
import { runGit } from "../git/run-git.js";
import { HOOK_MARKER, PREVIOUS_HOOK_NAME } from "./hook-script.js";

export type HookInstallOutcome =
  /** Written where there was no hook. */
  | "installed"
  /** Written; the hook that was there runs first, from post-receive.baton-previous. */
  | "chained"
  /** Baton's hook was there with other text (another CLI path, say) and was rewritten. */
  | "updated"
  /** Baton's hook was there, identical. */
  | "unchanged";

export type HookUninstallOutcome =
  /** Baton's hook removed; there was none before it. */
  | "removed"
  /** Baton's hook removed and the one it had chained put back. */
  | "restored"
  /** The post-receive hook there is not Baton's (or there is none): left as it is. */
  | "not-installed";

/** The folder git runs this repository's hooks from (it honours core.hooksPath). */
export async function hooksDirOf(repo: string): Promise<string> {
  const result = await runGit(["-C", repo, "rev-parse", "--git-path", "hooks"], {
    ceiling: dirname(resolve(repo)),
  });
  if (result.code !== 0) throw gitFailure(result, repo, "finding its hooks folder");
  return resolve(repo, result.stdout.trim());
}

async function readIfThere(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes `script` the repository's post-receive hook (mode 0755). A hook that was there and is
 * not Baton's is kept as post-receive.baton-previous and called first by Baton's. Installing
 * the same script again changes nothing.
 */
export async function installHook(repo: string, script: string): Promise<HookInstallOutcome> {
  if (!script.includes(HOOK_MARKER)) {
    throw new Error("installHook takes the text hookScript() returns");
  }
  const hooksDir = await hooksDirOf(repo);
  const hookPath = join(hooksDir, "post-receive");
  const previousPath = join(hooksDir, PREVIOUS_HOOK_NAME);
  const current = await readIfThere(hookPath);
  let outcome: HookInstallOutcome = "installed";
  if (current === script) {
    await chmod(hookPath, 0o755);
    return "unchanged";
  }
  if (current?.includes(HOOK_MARKER)) {
    outcome = "updated";
  } else if (current !== undefined || (await exists(hookPath))) {
    if (await exists(previousPath)) {
      throw new DeliveryError(
        "hook-conflict",
        `${hookPath} is not Baton's hook, and ${PREVIOUS_HOOK_NAME} (the one Baton kept before) is still there: installing would lose one of them`,
        `merge or remove one of ${hookPath} and ${previousPath}, then install again`,
      );
    }
    await rename(hookPath, previousPath);
    outcome = "chained";
  }
  await mkdir(hooksDir, { recursive: true });
  // Written beside and renamed: git never runs half a hook.
  const partial = `${hookPath}.baton-partial`;
  await writeFile(partial, script, { mode: 0o755 });
  await chmod(partial, 0o755);
  await rename(partial, hookPath);
  return outcome;
}

/** Removes Baton's post-receive hook and puts back the one it chained, if any. */
export async function uninstallHook(repo: string): Promise<HookUninstallOutcome> {
  const hooksDir = await hooksDirOf(repo);
  const hookPath = join(hooksDir, "post-receive");
  const previousPath = join(hooksDir, PREVIOUS_HOOK_NAME);
  const current = await readIfThere(hookPath);
  if (current === undefined || !current.includes(HOOK_MARKER)) return "not-installed";
  if (await exists(previousPath)) {
    await rename(previousPath, hookPath);
    return "restored";
  }
  await rm(hookPath, { force: true });
  return "removed";
}
