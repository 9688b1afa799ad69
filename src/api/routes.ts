/**
 * The route table: one builder per request of the API, giving its method, its path (the
 * parameters encoded, the query string built) and its body, typed with the answer it gets.
 * A client sends what a builder returns; the server answers each route with its answer type
 * (`answer(routes.history, …)`), so either side that drifts from the other fails to compile.
 */
import type {
  AlertsAnswer,
  SilenceAnswer,
  SilenceRemovedAnswer,
  SilenceRequest,
  SilencesAnswer,
} from "./alerts.js";
import type { ApplyAnswer, ApplyRequest } from "./apply.js";
import type { EventRecord, EventStreamQuery, EventsAnswer, EventsQuery } from "./events.js";
import type {
  AppHistory,
  RetryRequest,
  RollbackRequest,
  RolloutAnswer,
  RolloutStatus,
} from "./history.js";
import type {
  DriftAnswer,
  DriftRequest,
  FactsAnswer,
  FactsRequest,
  HostsApplyAnswer,
  ParityAnswer,
  ParityRequest,
} from "./hosts.js";
import type { LogRecordJson, LogsQuery } from "./logs.js";
import type {
  MetricQuery,
  MetricsAnswer,
  MetricsListAnswer,
  QueryAnswer,
  QueryRequest,
} from "./metrics.js";
import type { PlanAnswer, PlanRequest } from "./plan.js";
import type {
  BuildTargetAnswer,
  DeployAnswer,
  DeployRequest,
  ImportReleaseAnswer,
  ImportReleaseRequest,
  RecordReleaseAnswer,
  RecordReleaseRequest,
  ReleaseHealth,
  ReleasesAnswer,
} from "./releases.js";
import type {
  PushAnswer,
  PushNotice,
  RunActionRequest,
  RunAnswer,
  RunsAnswer,
  RunsQuery,
  TriggerRunAnswer,
  TriggerRunRequest,
} from "./runs.js";
import type { SecretsAnswer } from "./secrets.js";
import type {
  ControllerStatus,
  ScaleAnswer,
  ScaleRequest,
  ShutdownAnswer,
  ShutdownRequest,
  StatusQuery,
} from "./status.js";
import type {
  AuditAnswer,
  AuditQuery,
  CreateTokenAnswer,
  CreateTokenRequest,
  RevokeTokenAnswer,
  TokensAnswer,
} from "./tokens.js";

/** Carries a route's answer type; no route has it at run time. */
declare const answerType: unique symbol;
/** Carries a stream's item type; no stream has it at run time. */
declare const itemType: unique symbol;

export type Method = "GET" | "POST" | "PUT" | "DELETE";

/** One request: JSON in (`body`, for POST), one JSON answer of type `A` out. */
export interface Route<A> {
  readonly method: Method;
  /** From `/api/v1/`, parameters encoded, with its query string. */
  readonly path: string;
  readonly body?: unknown;
  readonly [answerType]?: A;
}

/** A request answered by a stream of items of type `T` (server-sent events, or NDJSON). */
export interface StreamRoute<T> {
  readonly method: "GET";
  readonly path: string;
  readonly [itemType]?: T;
}

/** The answer type of a route, or of a route's builder. */
export type AnswerOf<R> =
  R extends Route<infer A> ? A : R extends (...args: never[]) => Route<infer A> ? A : never;

type QueryValue = string | number | boolean | readonly string[] | undefined;

/** `path?a=1&b=x`, leaving out what is undefined or false, repeating a list's key. */
function withQuery(path: string, query: Readonly<Record<string, QueryValue>>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "object") for (const item of value) params.append(key, item);
    else params.append(key, value === true ? "1" : String(value));
  }
  const text = params.toString();
  return text === "" ? path : `${path}?${text}`;
}

function get<A>(path: string, query: Readonly<Record<string, QueryValue>> = {}): Route<A> {
  return { method: "GET", path: withQuery(path, query) };
}

function post<A>(path: string, body: unknown): Route<A> {
  return { method: "POST", path, body };
}

const app = (name: string, what: string): string =>
  `/api/v1/apps/${encodeURIComponent(name)}/${what}`;

/** A run's number, or the text the user gave for one (the controller says if it is none). */
const run = (id: number | string, what = ""): string =>
  `/api/v1/runs/${encodeURIComponent(String(id))}${what}`;

export const routes = {
  status: (query: StatusQuery = {}): Route<ControllerStatus> =>
    get("/api/v1/status", { stats: query.stats }),
  plan: (body: PlanRequest): Route<PlanAnswer> => post("/api/v1/plan", body),
  apply: (body: ApplyRequest): Route<ApplyAnswer> => post("/api/v1/apply", body),
  applyHosts: (): Route<HostsApplyAnswer> => post("/api/v1/hosts/apply", {}),
  drift: (body: DriftRequest = {}): Route<DriftAnswer> => post("/api/v1/drift", body),
  facts: (body: FactsRequest = {}): Route<FactsAnswer> => post("/api/v1/hosts/facts", body),
  parity: (body: ParityRequest): Route<ParityAnswer> => post("/api/v1/parity", body),
  shutdown: (body: ShutdownRequest): Route<ShutdownAnswer> => post("/api/v1/shutdown", body),

  scale: (name: string, body: ScaleRequest): Route<ScaleAnswer> => post(app(name, "scale"), body),
  history: (name: string): Route<AppHistory> => get(app(name, "history")),
  rollout: (name: string): Route<RolloutStatus> => get(app(name, "rollout")),
  retryRollout: (name: string, body: RetryRequest = {}): Route<RolloutAnswer> =>
    post(app(name, "rollout/retry"), body),
  rollback: (name: string, body: RollbackRequest = {}): Route<RolloutAnswer> =>
    post(app(name, "rollback"), body),
  releases: (name: string): Route<ReleasesAnswer> => get(app(name, "releases")),
  recordRelease: (name: string, body: RecordReleaseRequest): Route<RecordReleaseAnswer> =>
    post(app(name, "releases"), body),
  buildTarget: (name: string): Route<BuildTargetAnswer> => get(app(name, "build")),
  releaseHealth: (name: string, query: { rollout?: number } = {}): Route<ReleaseHealth> =>
    get(app(name, "release"), { rollout: query.rollout }),
  deploy: (name: string, body: DeployRequest): Route<DeployAnswer> =>
    post(app(name, "deploy"), body),
  importRelease: (body: ImportReleaseRequest): Route<ImportReleaseAnswer> =>
    post("/api/v1/releases", body),

  runs: (query: RunsQuery = {}): Route<RunsAnswer> =>
    get("/api/v1/runs", { pipeline: query.pipeline, limit: query.limit }),
  run: (id: number | string): Route<RunAnswer> => get(run(id)),
  triggerRun: (pipeline: string, body: TriggerRunRequest = {}): Route<TriggerRunAnswer> =>
    post(`/api/v1/pipelines/${encodeURIComponent(pipeline)}/runs`, body),
  approveRun: (id: number | string, body: RunActionRequest = {}): Route<RunAnswer> =>
    post(run(id, "/approve"), body),
  cancelRun: (id: number | string, body: RunActionRequest = {}): Route<RunAnswer> =>
    post(run(id, "/cancel"), body),
  pushHook: (body: PushNotice): Route<PushAnswer> => post("/api/v1/hooks/push", body),
  secrets: (): Route<SecretsAnswer> => get("/api/v1/secrets"),

  events: (query: EventsQuery = {}): Route<EventsAnswer> =>
    get("/api/v1/events", { after: query.after, app: query.app, limit: query.limit }),
  eventStream: (query: EventStreamQuery = {}): StreamRoute<EventRecord> => ({
    method: "GET",
    path: withQuery("/api/v1/events/stream", { app: query.app, after: query.after }),
  }),

  alerts: (query: { history?: number } = {}): Route<AlertsAnswer> =>
    get("/api/v1/alerts", { history: query.history }),
  silences: (): Route<SilencesAnswer> => get("/api/v1/silences"),
  addSilence: (body: SilenceRequest): Route<SilenceAnswer> => post("/api/v1/silences", body),
  removeSilence: (id: string, query: { by?: string } = {}): Route<SilenceRemovedAnswer> => ({
    method: "DELETE",
    path: withQuery(`/api/v1/silences/${encodeURIComponent(id)}`, { by: query.by }),
  }),

  tokens: (): Route<TokensAnswer> => get("/api/v1/tokens"),
  createToken: (body: CreateTokenRequest): Route<CreateTokenAnswer> => post("/api/v1/tokens", body),
  revokeToken: (name: string): Route<RevokeTokenAnswer> => ({
    method: "DELETE",
    path: `/api/v1/tokens/${encodeURIComponent(name)}`,
  }),
  audit: (query: AuditQuery = {}): Route<AuditAnswer> =>
    get("/api/v1/audit", { since: query.since, limit: query.limit }),

  metrics: (): Route<MetricsListAnswer> => get("/api/v1/metrics"),
  metric: (query: MetricQuery): Route<MetricsAnswer> =>
    get("/api/v1/metrics", {
      name: query.name,
      since: query.since,
      step: query.step,
      match: query.match,
    }),
  query: (request: QueryRequest): Route<QueryAnswer> =>
    get("/api/v1/query", { expr: request.expr, at: request.at }),

  /** NDJSON, one log line a line; with `follow`, until the client hangs up. */
  logs: (query: LogsQuery = {}): StreamRoute<LogRecordJson> => ({
    method: "GET",
    path: withQuery("/api/v1/logs", {
      target: query.target,
      since: query.since,
      tail: query.tail,
      grep: query.grep,
      where: query.where,
      follow: query.follow,
      all: query.all,
    }),
  }),
};

/**
 * The server's side of a route: `body` must be the answer `route` promises, or the server
 * does not compile. Returns `body`.
 */
export function answer<A>(_route: (...args: never[]) => Route<A>, body: NoInfer<A>): A {
  return body;
}
