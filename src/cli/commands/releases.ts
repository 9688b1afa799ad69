import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import type { ReleaseJson, ReleasesAnswer } from "../../api/releases.js";
import type { AppSpec } from "../../definition/index.js";
import { chosenRelease, releaseDigestOf } from "../../images/index.js";
import { type ReleaseRecord, SqliteStore } from "../../store/index.js";
import { type CommonOptions, stateDir, withCommonOptions } from "../context.js";
import { formatAge, paint, printJson, say, table, useColor } from "../output.js";

/** A release as scripts see it (`releases --json`, `build --json`). */
export function releaseJson(release: ReleaseRecord): ReleaseJson {
  return {
    app: release.app,
    version: release.version,
    number: release.number,
    kind: release.kind,
    digest: release.digest,
    commit: release.commit,
    createdAt: new Date(release.createdAt).toISOString(),
    createdBy: release.createdBy,
    // An image release's `registry/project/app:version`; an artifact's folder.
    image: release.ref,
    definitionRevision: release.definitionRevision,
    // What made it: the pipeline run and its tests, and the environment it was promoted from.
    details: release.details,
  };
}

/** Who made the release, and from which environment it came when it was promoted here. */
function madeBy(release: ReleaseRecord): string {
  const from = release.details.importedFrom as { environment?: unknown } | undefined;
  return typeof from?.environment === "string"
    ? `${release.createdBy} (promoted from ${from.environment})`
    : release.createdBy;
}

export function releasesCommand(program: Command): void {
  withCommonOptions(program.command("releases <app>"))
    .description(
      "an app's releases, newest first; * marks the one serving (the deployed one, else the newest, unless a deploy was rolled back)",
    )
    .option(
      "--json",
      "{ app, deployed, serving, releases: [{ version, number, kind, digest, commit, createdAt, createdBy, details, … }] }",
    )
    .action((app: string, options: CommonOptions & { json?: boolean }) => {
      const dir = stateDir(options);
      let releases: ReleaseRecord[] = [];
      let deployed: string | null = null;
      let serving: string | null = null;
      // Releases are a record: read straight from the store, controller or not.
      if (existsSync(join(dir, "state.db"))) {
        const store = SqliteStore.open(dir, { create: false });
        try {
          releases = store.releases.list(app);
          deployed = chosenRelease(app, store.releases)?.version ?? null;
          serving = servingRelease(store, app, releases);
        } finally {
          store.close();
        }
      }
      if (options.json) {
        const answer: ReleasesAnswer = {
          app,
          deployed,
          serving,
          releases: releases.map(releaseJson),
        };
        printJson(answer);
        return;
      }
      if (releases.length === 0) {
        say(`${app} has no release yet: \`baton build ${app}\` makes one`);
        return;
      }
      const color = useColor();
      const now = Date.now();
      say(
        table([
          ["", "#", "VERSION", "DIGEST", "COMMIT", "AGE", "BY"].map((h) => paint(h, "bold", color)),
          ...releases.map((r) => [
            r.version === (serving ?? deployed) ? "*" : "",
            String(r.number),
            r.version,
            r.digest.slice(0, 19),
            r.commit?.slice(0, 12) ?? "-",
            formatAge(now - r.createdAt),
            madeBy(r),
          ]),
        ]),
      );
      if (serving !== null && deployed !== null && serving !== deployed) {
        say(
          `${deployed} is deployed but was rolled back: ${serving} serves (see \`baton history ${app}\`)`,
        );
      }
    });
}

/**
 * The release the app's serving revision runs, by digest: after a deploy that was rolled
 * back, that is not the deployed one.
 */
function servingRelease(
  store: SqliteStore,
  app: string,
  releases: readonly ReleaseRecord[],
): string | null {
  const revision = store.rollouts.servingRevision(app);
  const stored = revision === undefined ? undefined : store.rollouts.revision(app, revision);
  if (stored === undefined) return null;
  const digest = releaseDigestOf(JSON.parse(stored.spec) as Partial<AppSpec>);
  return releases.find((r) => r.digest === digest)?.version ?? null;
}
