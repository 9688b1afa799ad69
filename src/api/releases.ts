/**
 * Releases as the API answers them: deploying one (`baton deploy`), promoting one from
 * another environment's controller, and how long the deployed one has served healthily.
 */
import type { RolloutRecord } from "./history.js";

/** What a release is made of: an image pushed to a registry, or an artifact of a process app's files. */
export type ReleaseKind = "image" | "artifact";

/** One recorded build of an app: what `baton deploy --release` and rollbacks pin. */
export interface ReleaseRecord {
  readonly app: string;
  /** Unique per app: `<short commit>-<content digest>`, or the digest alone outside git. */
  readonly version: string;
  /** 1, 2, 3… per app in the order the environment that built them built them. */
  readonly number: number;
  readonly kind: ReleaseKind;
  /** Where it is: `registry/project/app:version` for an image. */
  readonly ref: string;
  /** `sha256:…` of the pushed manifest: what runs is exactly this. */
  readonly digest: string;
  /** The git commit built from; null outside a git repository. */
  readonly commit: string | null;
  /** Hash of the definition the build was made from. */
  readonly definitionRevision: string;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** The release an app is deployed at, since when and by whom. */
export interface DesiredRelease {
  readonly version: string;
  readonly setAt: number;
  readonly setBy: string;
}

/** A release as `baton releases --json` and `baton build --json` show it to scripts. */
export interface ReleaseJson {
  readonly app: string;
  readonly version: string;
  readonly number: number;
  readonly kind: ReleaseKind;
  readonly digest: string;
  readonly commit: string | null;
  /** RFC 3339. */
  readonly createdAt: string;
  readonly createdBy: string;
  /** An image release's `registry/project/app:version`; an artifact's folder. */
  readonly image: string;
  readonly definitionRevision: string;
  /** What made it: the pipeline run and its tests, and the environment it was promoted from. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** `baton releases APP --json`: newest first, the deployed one and the one serving. */
export interface ReleasesAnswer {
  readonly app: string;
  readonly deployed: string | null;
  readonly serving: string | null;
  readonly releases: readonly ReleaseJson[];
}

/** `GET /api/v1/apps/:app/release?rollout=ID`: the deployed release and since when it serves healthily. */
export interface ReleaseHealth {
  readonly app: string;
  readonly desired: DesiredRelease | null;
  /** When the rollout to the deployed release ended well; null while it has not. */
  readonly healthySince: number | null;
  /** The rollout asked for, else the app's latest; null when there is none. */
  readonly rollout: RolloutRecord | null;
}

/** Where an imported release comes from: the environment and the run that promoted it. */
export interface ReleaseOrigin {
  readonly environment: string;
  readonly pipeline?: string;
  readonly run?: number;
}

/**
 * `POST /api/v1/releases`: a release another environment's controller built, as it recorded
 * it (`number` as numbered there), and where it comes from.
 */
export interface ImportReleaseRequest {
  readonly release: Omit<ReleaseRecord, "number" | "details"> & {
    readonly number?: number;
    readonly details?: Readonly<Record<string, unknown>>;
  };
  readonly from: ReleaseOrigin;
}

/** `created` false: that version was recorded here before, with the same digest. */
export interface ImportReleaseAnswer {
  readonly release: ReleaseRecord;
  readonly created: boolean;
}

/** `POST /api/v1/apps/:app/deploy` (`baton deploy APP --release V`). */
export interface DeployRequest {
  readonly release: string;
  readonly by?: string;
}

/** The release now deployed; `rollout` null when the app already ran it. */
export interface DeployAnswer {
  readonly release: ReleaseRecord;
  readonly rollout: RolloutRecord | null;
}

/** How the running definition builds an app (`GET /api/v1/apps/:app/build`). */
export interface BuildTarget {
  readonly app: string;
  readonly build: {
    /** Absolute folder sent as the build context. */
    readonly context: string;
    /** The Dockerfile, relative to the context. */
    readonly dockerfile: string;
    readonly args: Readonly<Record<string, string>>;
    readonly labels: Readonly<Record<string, string>>;
    /** `<registry>/<project>/<app>`: where the app's releases are pushed, without tag. */
    readonly repository: string;
  };
  readonly contentExclude: readonly string[];
  /** The definition's hash, recorded with the release. */
  readonly definitionRevision: string;
  /** Whether `registry:` has a login (its password is never in a target). */
  readonly registryLogin?: boolean;
}

/** The build target and the definition file it was read from. */
export interface BuildTargetAnswer {
  readonly target: BuildTarget;
  readonly file: string;
}

/**
 * `POST /api/v1/apps/:app/releases` (`baton build`, `baton deploy` without `--release`): a
 * release a client built where its source is (built and pushed to the registry), recorded by
 * the controller — the one process that writes its state — with `release.recorded`.
 */
export interface RecordReleaseRequest {
  readonly release: Omit<ReleaseRecord, "app" | "number" | "createdAt" | "createdBy"> & {
    readonly createdAt?: number;
  };
  readonly by?: string;
}

/** `created` false: that version was recorded before (with this digest). */
export interface RecordReleaseAnswer {
  readonly release: ReleaseRecord;
  readonly created: boolean;
}
