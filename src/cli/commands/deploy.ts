import type { Command } from "commander";
import type { RolloutRecord } from "../../api/index.js";
import type { BatonClient } from "../../client/client.js";
import { recordedEnvironment } from "../../client/open.js";
import { clientFor } from "../connect.js";
import { type CommonOptions, definitionPath, whoAmI, withCommonOptions } from "../context.js";
import { printJson, say, useColor, warn } from "../output.js";
import {
  clientRolloutSource,
  followRollout,
  outcomeError,
  reportOutcome,
  silentOutput,
} from "../rollout-follow.js";
import { durationOption } from "./wait.js";

interface DeployOptions extends CommonOptions {
  readonly release?: string;
  readonly wait?: boolean;
  readonly timeout: string;
  readonly json?: boolean;
}

export function deployCommand(program: Command): void {
  withCommonOptions(program.command("deploy <app>"))
    .summary("roll an app out to one of its releases")
    .description(
      "roll an app with `build:` out to a release, pinned by digest: the one named by --release, else its current code, built first when it was not; it runs that release until the next deploy. Without a controller, the choice is recorded for the next `baton up`",
    )
    .option(
      "--release <version>",
      "the release version (see `baton releases APP`); without it, the app's current code is built, pushed and recorded first (or found built) and that release deployed",
    )
    .option("--wait", "follow the rollout until it ends (exit 1 unless it rolls out)")
    .option("--timeout <duration>", "with --wait: give up after this long (exit 1)", "5m")
    .option(
      "--json",
      "machine-readable result: { release, rollout }, the final rollout with --wait",
    )
    .action(async (app: string, options: DeployOptions) => {
      const timeoutMs = durationOption("--timeout", options.timeout);
      const client = clientFor(options);
      const version = options.release ?? (await buildCurrentCode(client, app, options));
      const body = await client.deploy(app, version, { by: whoAmI() });
      const started = body.rollout;
      const release = body.release;
      if (client.mode === "local") {
        // No controller: the release is recorded as the app's, and the next `baton up` runs it.
        if (options.json) printJson({ release, rollout: null, recorded: true });
        else {
          say(
            `no controller runs for ${client.stateDir}: recorded ${app} release ${release.version}; \`baton up\` runs it`,
          );
        }
        return;
      }
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
      const ended = await followRollout(clientRolloutSource(client), app, {
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

/** `deploy` without --release: the app's current code, built unless that version exists. */
async function buildCurrentCode(
  client: BatonClient,
  app: string,
  options: DeployOptions,
): Promise<string> {
  const output = options.json ? warn : say;
  const { release, created } = await client.buildApp(
    app,
    definitionPath(options),
    options.env ?? recordedEnvironment(client.stateDir),
    { by: whoAmI(), output },
  );
  output(
    created
      ? `built ${app} ${release.version} (${release.digest})`
      : `${app} ${release.version}: this code was built and pushed before (${release.digest})`,
  );
  return release.version;
}
