import { DockerEngine, DockerError } from "../../runtime/docker/engine.js";
import { groupAlive, readProcStat } from "../../util/proc.js";
import type { StartedCommand } from "./attempt.js";
import { killGroup } from "./host-command.js";

/**
 * Ends what a step attempt started before the controller went away (recorded through
 * `onStarted`): its process group, or its container. Nothing there any more is fine.
 */
export async function stopLeftover(
  started: StartedCommand,
  options: { readonly killGraceMs?: number; readonly engine?: DockerEngine } = {},
): Promise<void> {
  if (started.kind === "process") {
    // The kernel hands out no pid still in use as a group id, so a group whose leader has
    // exited is still ours; only a leader pid now held by a younger process means it is gone.
    const leader = readProcStat(started.pgid);
    const reused = leader !== undefined && leader.startTicks !== started.startTicks;
    if (!reused && groupAlive(started.pgid)) {
      await killGroup(started.pgid, options.killGraceMs ?? 3_000);
    }
    return;
  }
  const engine = options.engine ?? new DockerEngine();
  try {
    await engine.call("DELETE", `/containers/${encodeURIComponent(started.name)}?force=1&v=1`);
  } catch (error) {
    if (!(error instanceof DockerError && error.status === 404)) throw error;
  }
}
