import { resolve } from "node:path";
import type { Command } from "commander";
import type { RolloutRecord } from "../../apps/rollout-types.js";
import { loadDefinition } from "../../spec/index.js";
import { SqliteStore } from "../../store/index.js";
import { findController } from "../api-client.js";
import {
  type CommonOptions,
  definitionPath,
  stateDir,
  whoAmI,
  withCommonOptions,
} from "../context.js";
import { CliError } from "../errors.js";
import { printJson, say, useColor } from "../output.js";
import {
  apiRolloutSource,
  followRollout,
  outcomeError,
  reportOutcome,
  silentOutput,
} from "../rollout-follow.js";
import { durationOption } from "./wait.js";

interface DeployOptions extends CommonOptions {
  readonly release: string;
  readonly wait?: boolean;
  readonly timeout: string;
  readonly json?: boolean;
}

export function deployCommand(program: Command): void {
  withCommonOptions(program.command("deploy <app>"))
    .summary("roll an app out to one of its releases")
    .description(
      "roll an app with `build:` out to a recorded release, pinned by digest; it runs that release until the next deploy. Without a controller, the choice is recorded for the next `baton up`",
    )
    .requiredOption("--release <version>", "the release version (see `baton releases APP`)")
    .option("--wait", "follow the rollout until it ends (exit 1 unless it rolls out)")
    .option("--timeout <duration>", "with --wait: give up after this long (exit 1)", "5m")
    .option(
      "--json",
      "machine-readable result: { release, rollout }, the final rollout with --wait",
    )
    .action(async (app: string, options: DeployOptions) => {
      const timeoutMs = durationOption("--timeout", options.timeout);
      const dir = stateDir(options);
      const client = findController(dir);
      if (client === undefined) return recordForNextUp(app, options, dir);
      const body = await client.call("POST", `/api/v1/apps/${encodeURIComponent(app)}/deploy`, {
        release: options.release,
        by: whoAmI(),
      });
      const started = body.rollout as RolloutRecord | null;
      const release = body.release as { version: string; digest: string };
      if (started === null) {
        if (options.json) printJson(body);
        else say(`${app} already runs release ${release.version} (${release.digest})`);
        return;
      }
      if (!options.wait) {
        if (options.json) printJson(body);
        else say(deploying(app, release, started));
        return;
      }
      if (!options.json) say(deploying(app, release, started));
      const ended = await followRollout(apiRolloutSource(client), app, {
        timeoutMs,
        rolloutId: started.id,
        ...(options.json ? { output: silentOutput } : {}),
      });
      if (!options.json) return reportOutcome(app, ended, useColor());
      printJson({ release, rollout: ended });
      const error = ended === null ? undefined : outcomeError(ended);
      if (error !== undefined) throw error;
    });
}

function deploying(
  app: string,
  release: { version: string; digest: string },
  rollout: RolloutRecord,
): string {
  return `deploying ${app} release ${release.version} (${release.digest}): revision ${rollout.fromRevision ?? "nothing"} → ${rollout.toRevision} (rollout ${rollout.id})`;
}

/** No controller: the release is recorded as the app's, and the next `baton up` runs it. */
function recordForNextUp(app: string, options: DeployOptions, dir: string): void {
  const definition = loadDefinition(definitionPath(options), { exclude: [resolve(dir)] });
  const spec = definition.apps[app];
  if (spec?.build === undefined) {
    throw new CliError(
      spec === undefined ? "deploy.unknown_app" : "deploy.not_built",
      spec === undefined
        ? `there is no app named ${JSON.stringify(app)} in ${definition.file}`
        : `${app} has no \`build:\`: its image is named in the definition, not released by Baton`,
      spec === undefined
        ? `apps: ${Object.keys(definition.apps).join(", ") || "none"}`
        : "edit its `image:` instead",
    );
  }
  const store = SqliteStore.open(dir, { create: true });
  try {
    const release = store.releases.find(app, options.release);
    if (release === undefined) {
      throw new CliError(
        "deploy.unknown_release",
        `${app} has no release ${JSON.stringify(options.release)}`,
        `\`baton releases ${app}\` lists them; \`baton build ${app}\` makes one`,
      );
    }
    store.releases.setDesired(app, release.version, whoAmI());
    if (options.json) printJson({ release, rollout: null, recorded: true });
    else {
      say(
        `no controller runs for ${dir}: recorded ${app} release ${release.version}; \`baton up\` runs it`,
      );
    }
  } finally {
    store.close();
  }
}
