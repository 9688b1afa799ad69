import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { routes } from "../../api/routes.js";
import type { RolloutRecord } from "../../apps/rollout-types.js";
import type { Definition } from "../../definition/index.js";
import type { BuildTarget } from "../../images/index.js";
import { type ApiClient, findController } from "../api-client.js";
import {
  type CommonOptions,
  definitionPath,
  stateDir,
  whoAmI,
  withCommonOptions,
} from "../context.js";
import { CliError } from "../errors.js";
import { printJson, say, useColor, warn } from "../output.js";
import {
  apiRolloutSource,
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
      const dir = stateDir(options);
      const client = findController(dir);
      const version = options.release ?? (await buildCurrentCode(app, options, dir, client));
      if (client === undefined) return recordForNextUp(app, version, options, dir);
      const body = await client.send(routes.deploy(app, { release: version, by: whoAmI() }));
      const started = body.rollout;
      const release = body.release;
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

/** `deploy` without --release: the app's current code, built unless that version exists. */
async function buildCurrentCode(
  app: string,
  options: DeployOptions,
  dir: string,
  client: ApiClient | undefined,
): Promise<string> {
  const target =
    (client === undefined ? undefined : await appliedTarget(client, app, options)) ??
    (await import("../../images/index.js")).buildTargetOf(
      await builtAppDefinition(app, options, dir),
      app,
    );
  const { buildReleases } = await import("../build-first.js");
  const [built] = await buildReleases(dir, [target], options.json ? warn : say);
  if (built === undefined) throw new Error(`building ${app} returned no release`);
  const { release, created } = built;
  (options.json ? warn : say)(
    created
      ? `built ${app} ${release.version} (${release.digest})`
      : `${app} ${release.version}: this code was built and pushed before (${release.digest})`,
  );
  return release.version;
}

/**
 * The running controller's build target for the app, when the definition file on disk is
 * exactly the one it runs: parsing and validating it again would cost ~0.2 s of CPU here
 * and say the same. Undefined when the file differs.
 */
async function appliedTarget(
  client: ApiClient,
  app: string,
  options: DeployOptions,
): Promise<BuildTarget | undefined> {
  const applied = await client.send(routes.buildTarget(app));
  const file = resolve(definitionPath(options));
  if (applied.file !== file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined; // the loader says what is wrong with the file
  }
  const hash = createHash("sha256").update(text).digest("hex");
  return hash === applied.target.definitionRevision ? applied.target : undefined;
}

/** The definition, once it is known to have `app` with `build:`. Loaded only when needed. */
async function builtAppDefinition(
  app: string,
  options: DeployOptions,
  dir: string,
): Promise<Definition> {
  const { loadDefinition } = await import("../../definition/index.js");
  const definition = loadDefinition(definitionPath(options), { exclude: [resolve(dir)] });
  const spec = definition.apps[app];
  if (spec?.build !== undefined) return definition;
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

/** No controller: the release is recorded as the app's, and the next `baton up` runs it. */
async function recordForNextUp(
  app: string,
  version: string,
  options: DeployOptions,
  dir: string,
): Promise<void> {
  await builtAppDefinition(app, options, dir);
  const { SqliteStore } = await import("../../store/index.js");
  const store = SqliteStore.open(dir, { create: true });
  try {
    const release = store.releases.find(app, version);
    if (release === undefined) {
      throw new CliError(
        "deploy.unknown_release",
        `${app} has no release ${JSON.stringify(version)}`,
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
