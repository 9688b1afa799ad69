import { existsSync } from "node:fs";
import type { Command } from "commander";
import { explainAppChange, storedSpecs } from "../../apps/change-details.js";
import { desiredApps, observedApps } from "../../apps/index.js";
import { withoutSwarmApps } from "../../apps/runtime-split.js";
import { Snapshots } from "../../apps/snapshots.js";
import { desiredSwarmApps, observedServices } from "../../apps/swarm-resources.js";
import { shipDefinition } from "../../client/content.js";
import type { Definition } from "../../definition/index.js";
import {
  buildPlan,
  diff,
  formatPlan,
  type Plan,
  planSummary,
  withFieldChanges,
} from "../../engine/index.js";
import { engineImageCommands, resolveReleases, withImageCommands } from "../../images/index.js";
import { DockerEngine, DockerRuntime } from "../../runtime/docker/index.js";
import { ProcessRuntime } from "../../runtime/process/index.js";
import type { ReplicaHandle } from "../../runtime/runtime.js";
import { SqliteStore } from "../../store/index.js";
import { findController } from "../api-client.js";
import { withCommonOptions } from "../context.js";
import { type EnvironmentOptions, loadForState } from "../definition.js";
import { hasHosts, hostPass } from "../host-pass.js";
import { hostOutcomesJson, renderHostOutcomes } from "../host-view.js";
import { printJson, say, useColor } from "../output.js";
import { type PlanJson, planFromJson } from "../plan-view.js";

export function planCommand(program: Command): void {
  withCommonOptions(program.command("plan"))
    .description("show what applying the definition would change; changes nothing")
    .option("--json", "machine-readable plan")
    .action(showPlan);
}

/** `baton plan`, and `baton apply --check`: apps and hosts, changing nothing. */
export async function showPlan(options: EnvironmentOptions & { json?: boolean }): Promise<void> {
  const { definition, dir } = loadForState(options);
  const hosts = hasHosts(definition)
    ? await hostPass(definition, dir, {
        apply: false,
        ...(definition.environment === undefined ? {} : { environment: definition.environment }),
      })
    : undefined;
  if (hosts?.some((h) => !h.ok)) process.exitCode = 1;
  const withApps = Object.keys(definition.apps).length > 0 || hosts === undefined;
  const plan = withApps ? await appsPlan(definition, dir) : undefined;
  if (options.json) {
    return printJson({
      ...(plan === undefined
        ? {}
        : {
            summary: planSummary(plan),
            steps: plan.steps.map((s) => ({
              id: s.id,
              type: s.change.type,
              reason: s.change.reason,
              changes: s.change.changes ?? [],
              after: s.after,
            })),
          }),
      ...(hosts === undefined ? {} : { hosts: hostOutcomesJson(hosts) }),
    });
  }
  if (plan !== undefined) say(formatPlan(plan, { color: useColor() }));
  if (hosts !== undefined) say(renderHostOutcomes(hosts, { color: useColor(), apply: false }));
}

async function appsPlan(definition: Definition, dir: string): Promise<Plan> {
  const client = findController(dir);
  let plan: Plan;
  if (client !== undefined) {
    const body = await client.call(
      "POST",
      "/api/v1/plan",
      await shipDefinition(definition, client.blobs(), { stateDir: dir }),
    );
    plan = planFromJson(body.plan as PlanJson);
  } else {
    plan = await localPlan(dir, definition);
  }
  return plan;
}

/**
 * With no controller, the actual state is what the runtime still finds running, and what
 * changes inside a replaced app is told from the specs the store kept of what runs.
 */
async function localPlan(dir: string, given: Definition): Promise<Plan> {
  let definition = given;
  let overrides = new Map<string, number>();
  const store = (() => {
    try {
      return SqliteStore.open(dir, { create: false });
    } catch {
      return undefined;
    }
  })();
  try {
    if (store !== undefined) {
      // Built apps run their release's image: the revision to compare with is the pinned one.
      definition = resolveReleases(given, store.releases, { missing: "keep" });
      overrides = new Map(
        Object.keys(definition.apps).flatMap((app) => {
          const o = store.scaleOverride(app);
          return o !== undefined && o.baseReplicas === definition.apps[app]?.replicas
            ? [[app, o.replicas] as const]
            : [];
        }),
      );
    }
    // What the controller would record: a container app without `command` runs its image's.
    definition = await withImageCommands(definition, engineImageCommands());
    if (!existsSync(dir)) {
      return buildPlan(
        diff(
          [
            ...desiredApps(withoutSwarmApps(definition), () => undefined),
            ...desiredSwarmApps(definition, () => undefined),
          ],
          [],
        ),
      );
    }
    const runtime = new ProcessRuntime({ stateDir: dir });
    const running = [...(await runtime.list()), ...(await runningContainers(dir))];
    await runtime.close();
    const plan = buildPlan(
      diff(
        [
          ...desiredApps(withoutSwarmApps(definition), (app) => overrides.get(app)),
          ...desiredSwarmApps(definition, (app) => overrides.get(app)),
        ],
        [...observedApps(running), ...(await observedServices(dir))],
      ),
    );
    if (store === undefined) return plan;
    const sources = {
      specOf: storedSpecs((app, revision) => store.rollouts.revision(app, revision)),
      snapshots: new Snapshots(dir),
    };
    const pinned = definition;
    return await withFieldChanges(plan, (change) => explainAppChange(change, pinned, sources));
  } finally {
    store?.close();
  }
}

/** Container replicas of this state, when a Docker engine answers; none otherwise. */
async function runningContainers(dir: string): Promise<ReplicaHandle[]> {
  const engine = new DockerEngine();
  if (!existsSync(engine.socketPath)) return [];
  const containers = new DockerRuntime({ stateDir: dir, engine });
  try {
    return await containers.list();
  } catch {
    return [];
  } finally {
    await containers.close();
  }
}
