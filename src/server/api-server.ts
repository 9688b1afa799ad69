import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ApplyAnswer } from "../api/apply.js";
import type { ErrorAnswer, ErrorBody } from "../api/error.js";
import { BatonError } from "../api/errors.js";
import type { EventRecord, EventsAnswer } from "../api/events.js";
import type { PlanAnswer } from "../api/plan.js";
import { answer, routes } from "../api/routes.js";
import { httpStatusOf } from "../api/status-codes.js";
import type { ApplyResult, Controller } from "../controller/index.js";
import type { Definition } from "../definition/index.js";
import { listRuns, runWithSteps } from "../delivery/runs-query.js";
import { planJson } from "../engine/index.js";
import {
  Access,
  forbidden,
  type Identity,
  mayPromote,
  onBehalfOf,
} from "../security/tokens/index.js";
import { BlobStore, SqliteStore } from "../store/index.js";
import { JsonBodyError, readJsonBody, sendJson } from "../util/json-http.js";
import { alertRoute } from "./alert-routes.js";
import { blobRoute } from "./blob-routes.js";
import { definitionFromBody } from "./definition-body.js";
import { hostsRoute } from "./hosts-api.js";
import { HttpError } from "./http-error.js";
import { logsRoute } from "./logs-api.js";
import { metricsRoute } from "./metrics-api.js";
import { queryRoute } from "./query-api.js";
import { importedRelease, recordedRelease } from "./release-body.js";
import { tokenRoute } from "./token-routes.js";

/** What `rollback` takes as `to`: a whole revision (12 hex characters) or a prefix of one. */
const REVISION_PREFIX = /^[0-9a-f]{4,12}$/;

/** Bodies larger than this are refused: a definition is text a person wrote. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface ApiServerOptions {
  readonly token: string;
  /** The controller's state directory: never part of an app's content when inside its cwd. */
  readonly stateDir: string;
  /** Called after `POST /api/v1/shutdown` has answered. */
  readonly onShutdown: (workloads: boolean) => void;
  /**
   * Starts the controller with the first definition applied, when none runs yet (the state
   * directory had no generation to start from): the apply that brings it is answered so.
   */
  readonly start?: (
    definition: Definition,
    appliedBy: string,
  ) => Promise<{ controller: Controller; applied: ApplyResult }>;
  /** Called once the answer of a first apply whose `start` failed has been sent. */
  readonly onStartFailed?: (error: unknown) => void;
}

/**
 * The controller's HTTP API on 127.0.0.1: the one contract the CLI, scripts and the
 * dashboard share. Every request carries the bearer token from `<state>/api-token`.
 */
export class ApiServer {
  private readonly server: Server;
  private controller: Controller | undefined;
  /** The first apply, starting the controller; others wait for it. */
  private starting: Promise<unknown> | undefined;
  /** Where uploaded files are kept, and apply and plan read them. */
  private readonly blobs: BlobStore;
  /** Tokens, roles and the audit log, on a connection of its own to the state store. */
  private readonly store: SqliteStore;
  private readonly access: Access;

  constructor(private readonly options: ApiServerOptions) {
    this.blobs = new BlobStore(options.stateDir);
    this.store = SqliteStore.open(options.stateDir, { create: true });
    this.access = new Access(this.store, options.token);
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.keepAliveTimeout = 5_000;
  }

  /** Listens before the controller exists, so its address can be recorded with the lease. */
  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  attach(controller: Controller): void {
    this.controller = controller;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.store.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    let identity: Identity | undefined;
    // What the call acted on when its path does not say it (the token a POST creates).
    const noted: { target?: string } = {};
    try {
      identity = this.access.identify(req.headers.authorization);
      this.access.authorize(identity, req.method ?? "GET", url.pathname);
      await this.route(req, res, url, identity, noted);
    } catch (error) {
      sendError(res, error);
    }
    try {
      this.access.record(
        identity,
        req.method ?? "GET",
        url.pathname,
        res.statusCode,
        req.socket.remoteAddress,
        noted.target,
      );
    } catch (error) {
      // The call was answered: a log that cannot be written is said, not turned into a 500.
      process.stderr.write(`audit log: cannot append: ${(error as Error).message}\n`);
    }
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    identity: Identity,
    noted: { target?: string },
  ): Promise<void> {
    // A block, not a try any more: the routes below keep their lines as they were.
    {
      if (await blobRoute(this.blobs, req, res, url, readJson)) return;
      const route = `${req.method} ${url.pathname}`;
      const tokens = await tokenRoute(
        this.store,
        this.options.stateDir,
        identity,
        req,
        url,
        readJson,
        noted,
      );
      if (tokens !== undefined) return send(res, 200, tokens);
      const controller = this.controller;
      if (controller === undefined) return await this.beforeStart(req, res, route, identity);
      if (metricsRoute(controller.metrics, req, res, url, Date.now())) return;
      if (queryRoute(controller.metrics, req, res, url, Date.now())) return;
      const masked = [this.options.token, ...controller.secretValues()];
      if (await logsRoute(this.options.stateDir, masked, req, res, url)) return;
      if (route === "GET /api/v1/secrets")
        return send(res, 200, answer(routes.secrets, controller.secretsSummary()));
      if (route === "GET /api/v1/status") {
        const withStats = url.searchParams.get("stats") === "1";
        const status = withStats ? await controller.statusWithStats() : controller.status();
        return send(res, 200, answer(routes.status, status));
      }
      if (route === "POST /api/v1/apply")
        return send(res, 200, answer(routes.apply, await this.apply(controller, req, identity)));
      if (route === "POST /api/v1/hosts/apply")
        return send(res, 200, answer(routes.applyHosts, { hosts: await controller.applyHosts() }));
      if (route === "POST /api/v1/plan")
        return send(res, 200, answer(routes.plan, await this.plan(controller, req)));
      if (route === "GET /api/v1/events")
        return send(res, 200, answer(routes.events, this.events(controller, url)));
      if (route === "GET /api/v1/events/stream") return this.stream(controller, req, res, url);
      if (route === "POST /api/v1/shutdown") return await this.shutdown(req, res);
      if (route === "POST /api/v1/releases") {
        const body = await readJson(req);
        const [release, from] = importedRelease(body);
        noted.target = release.app;
        if (!mayPromote(identity, release.app)) {
          throw forbidden(
            `token ${identity.name} may promote ${identity.apps?.join(", ") ?? "no app"}, not ${release.app}`,
            "create a promoter token that names this app too (`--app`)",
          );
        }
        const imported = await controller.importRelease(release, from);
        return send(res, 200, answer(routes.importRelease, imported));
      }
      const hosts = await hostsRoute(controller, req, url, readJson);
      if (hosts !== undefined) return send(res, 200, hosts);
      const alerted = await alertRoute(controller, req, url, readJson, identity.name);
      if (alerted !== undefined) return send(res, 200, alerted);
      const delivered = await this.deliveryRoute(controller, req, url, identity);
      if (delivered !== undefined) return send(res, 200, delivered);
      const appRoute = /^\/api\/v1\/apps\/([^/]+)\/([a-z]+(?:\/[a-z]+)?)$/.exec(url.pathname);
      if (appRoute) {
        const answer = await this.appRoute(
          controller,
          req,
          url,
          appName(appRoute[1] ?? ""),
          appRoute[2],
          identity,
        );
        if (answer !== undefined) return send(res, 200, answer);
      }
      throw new HttpError("api.not_found", `no such endpoint: ${route}`);
    }
  }

  /**
   * No controller yet: the first apply starts it, `shutdown` stops the process; anything
   * else waits for a definition.
   */
  private async beforeStart(
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
    identity: Identity,
  ): Promise<void> {
    if (route === "POST /api/v1/shutdown") return this.shutdown(req, res);
    const start = this.options.start;
    if (start === undefined) throw new HttpError("api.starting", "the controller is starting");
    if (route !== "POST /api/v1/apply") {
      throw new HttpError(
        "controller.no_definition",
        "the controller has no definition yet: nothing runs until one is applied",
        { hint: "`baton apply` (or `baton up`) hands it the definition" },
      );
    }
    const { definition } = await this.parse(req);
    const appliedBy = identity.name;
    if (this.starting !== undefined) {
      // Another first apply is starting the controller: this one is applied after it.
      await this.starting.catch(() => undefined);
      if (this.controller === undefined)
        throw new HttpError("api.starting", "the controller is starting");
      return send(res, 200, applyAnswer(await this.controller.apply(definition, appliedBy)));
    }
    const started = start(definition, appliedBy);
    this.starting = started;
    try {
      const { controller, applied } = await started;
      this.attach(controller);
      send(res, 200, applyAnswer(applied));
    } catch (error) {
      // Answered first: the client learns why before whoever started us hears of it.
      res.once("finish", () => this.options.onStartFailed?.(error));
      throw error;
    } finally {
      this.starting = undefined;
    }
  }

  private async shutdown(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const workloads = body.workloads === true;
    send(res, 202, answer(routes.shutdown, { stopping: true, workloads }));
    this.options.onShutdown(workloads);
  }

  /** Pipelines, runs and push notices; undefined when the path is none of theirs. */
  private async deliveryRoute(
    controller: Controller,
    req: IncomingMessage,
    url: URL,
    identity: Identity,
  ): Promise<unknown> {
    const { delivery } = controller;
    const runs = controller.runs;
    const route = `${req.method} ${url.pathname}`;
    if (route === "GET /api/v1/runs") {
      const pipeline = url.searchParams.get("pipeline") ?? undefined;
      const limit = Number(url.searchParams.get("limit") ?? "20") || 20;
      return answer(routes.runs, listRuns(runs, pipeline, limit));
    }
    if (route === "POST /api/v1/hooks/push") {
      const body = await readJson(req);
      const notice = {
        repo: String(body.repo ?? ""),
        ref: String(body.ref ?? ""),
        old: String(body.old ?? ""),
        new: String(body.new ?? ""),
      };
      return answer(routes.pushHook, { pipelines: await delivery.notifyPush(notice) });
    }
    const started = /^\/api\/v1\/pipelines\/([^/]+)\/runs$/.exec(url.pathname);
    if (started && req.method === "POST") {
      const body = await readJson(req);
      const ref = typeof body.ref === "string" && body.ref !== "" ? body.ref : undefined;
      // Recorded as the run's `createdBy`: who may not approve it (see below).
      const by = identity.name;
      const run = await delivery.trigger(decodeURIComponent(started[1] ?? ""), {
        ...(ref === undefined ? {} : { ref }),
        by,
      });
      return answer(routes.triggerRun, { run });
    }
    const runRoute = /^\/api\/v1\/runs\/(\d+)(?:\/(approve|cancel))?$/.exec(url.pathname);
    if (runRoute === null) return undefined;
    const id = Number(runRoute[1]);
    const found = runWithSteps(runs, id);
    if (found === undefined) throw new HttpError("run.not_found", `there is no run #${id}`);
    const { run } = found;
    const action = runRoute[2];
    if (action === undefined && req.method === "GET") return answer(routes.run, found);
    if (req.method !== "POST" || action === undefined) return undefined;
    await readJson(req);
    const by = identity.name;
    // Four eyes: whoever started a run by hand does not approve its promotion. An admin may
    // (it could make itself another token anyway), so one person alone can still ship.
    if (
      action === "approve" &&
      run.trigger === "manual" &&
      run.createdBy === by &&
      identity.role !== "admin"
    ) {
      throw forbidden(
        `run #${id} was started by token ${by}, which cannot approve it too`,
        "another approver approves it: `baton approve` with their token",
      );
    }
    const done =
      action === "approve" ? delivery.approve(id, by) : delivery.cancel(id, `cancelled by ${by}`);
    if (!done) {
      throw new HttpError(
        `run.not_${action === "approve" ? "waiting" : "active"}`,
        action === "approve"
          ? `run #${id} has no step waiting for an approval (it is ${run.state})`
          : `run #${id} has ended (${run.state}): there is nothing to cancel`,
      );
    }
    // The runner records the approval (approvedBy) once its waiting step resumes, in the
    // promise jobs that follow: they have all run before the next turn of the loop.
    if (action === "approve") await new Promise((resolve) => setImmediate(resolve));
    const after = runWithSteps(runs, id) ?? { run, steps: [] };
    return answer(action === "approve" ? routes.approveRun : routes.cancelRun, after);
  }

  /**
   * `/api/v1/apps/:app/:what` (`what` may have two parts: `rollout/retry`); undefined when
   * no such route, which is a 404 like any other.
   */
  private async appRoute(
    controller: Controller,
    req: IncomingMessage,
    url: URL,
    app: string,
    what: string | undefined,
    identity: Identity,
  ): Promise<unknown> {
    const by = identity.name;
    const route = `${req.method} ${what}`;
    if (route === "POST scale") {
      const body = await readJson(req);
      const replicas = body.replicas;
      if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
        throw new HttpError(
          "api.invalid_replicas",
          `replicas must be a whole number ≥ 0, found ${JSON.stringify(replicas)}`,
        );
      }
      controller.scale(app, replicas);
      return answer(routes.scale, { app, replicas });
    }
    if (route === "GET history") return answer(routes.history, controller.history(app));
    if (route === "GET releases") return answer(routes.releases, controller.releases(app));
    if (route === "POST releases") {
      const body = await readJson(req);
      return answer(routes.recordRelease, controller.recordRelease(recordedRelease(app, body, by)));
    }
    if (route === "GET rollout") return answer(routes.rollout, controller.rolloutStatus(app));
    if (route === "POST rollout/retry") {
      await readJson(req);
      return answer(routes.retryRollout, { rollout: await controller.retryRollout(app, by) });
    }
    if (route === "GET build") return answer(routes.buildTarget, controller.buildTarget(app));
    if (route === "GET release") {
      const rollout = Number(url.searchParams.get("rollout") ?? Number.NaN);
      const health = controller.releaseHealth(app, Number.isInteger(rollout) ? rollout : undefined);
      return answer(routes.releaseHealth, health);
    }
    if (route === "POST deploy") {
      const body = await readJson(req);
      if (typeof body.release !== "string" || body.release === "") {
        throw new HttpError(
          "api.invalid_release",
          `release must be a release version, found ${JSON.stringify(body.release)}`,
          { hint: `\`baton releases ${app}\` lists them` },
        );
      }
      return answer(
        routes.deploy,
        await controller.deploy(app, body.release, onBehalfOf(identity, body.by)),
      );
    }
    if (route === "POST rollback") {
      const body = await readJson(req);
      const to = body.to;
      if (to !== undefined && (typeof to !== "string" || !REVISION_PREFIX.test(to))) {
        throw new HttpError(
          "api.invalid_revision",
          `to must be a revision or its prefix, 4 to 12 lowercase hex characters, found ${JSON.stringify(to)}`,
          { hint: `\`baton history ${app}\` lists the revisions` },
        );
      }
      return answer(routes.rollback, { rollout: await controller.rollback(app, to, by) });
    }
    return undefined;
  }

  /** The definition of an apply or plan, read from its text and the content uploaded. */
  private async parse(
    req: IncomingMessage,
  ): Promise<{ definition: Definition; appliedBy: string }> {
    return definitionFromBody(await readJson(req), this.blobs, this.options.stateDir);
  }

  private async apply(
    controller: Controller,
    req: IncomingMessage,
    identity: Identity,
  ): Promise<ApplyAnswer> {
    const body = await readJson(req);
    const { definition } = definitionFromBody(body, this.blobs, this.options.stateDir);
    return applyAnswer(
      await controller.apply(definition, identity.name, { hosts: body.hosts === true }),
    );
  }

  private async plan(controller: Controller, req: IncomingMessage): Promise<PlanAnswer> {
    const { definition } = await this.parse(req);
    const hosts = Object.keys(definition.hosts.hosts).length > 0;
    return {
      plan: planJson(await controller.plan(definition)),
      ...(hosts ? { hosts: await controller.planHosts(definition) } : {}),
    };
  }

  private events(controller: Controller, url: URL): EventsAnswer {
    const after = Number(url.searchParams.get("after") ?? "0");
    const limit = Number(url.searchParams.get("limit") ?? "200");
    const app = url.searchParams.get("app") ?? undefined;
    return { events: controller.listEvents({ afterId: after, limit, ...(app ? { app } : {}) }) };
  }

  /** Server-sent events: the backlog after Last-Event-ID, then live events as they happen. */
  private stream(
    controller: Controller,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): void {
    const app = url.searchParams.get("app") ?? undefined;
    // `after=latest`: only what happens from now on, for a client that polls the rest.
    const liveOnly = url.searchParams.get("after") === "latest";
    const after = liveOnly
      ? 0
      : Number(req.headers["last-event-id"] ?? url.searchParams.get("after") ?? "0");
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    let last = after;
    const write = (event: EventRecord): void => {
      if (event.id <= last || (app !== undefined && event.app !== app)) return;
      last = event.id;
      res.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    };
    const unsubscribe = controller.events.subscribe(write);
    const backlog = liveOnly
      ? []
      : controller.listEvents({ afterId: after, limit: 1000, ...(app ? { app } : {}) });
    for (const event of backlog) write(event);
    const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
    req.on("close", () => {
      clearInterval(ping);
      unsubscribe();
    });
  }
}

function appName(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new HttpError(
      "api.invalid_path",
      `the app name in the path is not valid URI encoding: ${encoded}`,
    );
  }
}

function applyAnswer(result: ApplyResult): ApplyAnswer {
  return {
    generation: {
      id: result.generation.id,
      hash: result.generation.hash,
      created: result.created,
    },
    // The old name of `generation`, kept for one release.
    revision: {
      id: result.generation.id,
      hash: result.generation.hash,
      created: result.created,
    },
    plan: planJson(result.plan),
    ...(result.hosts === undefined ? {} : { hosts: result.hosts }),
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = await readJsonBody(req, MAX_BODY_BYTES);
  } catch (error) {
    if (error instanceof JsonBodyError) {
      throw new HttpError(
        error.status === 413 ? "api.too_large" : "api.invalid_json",
        error.message,
      );
    }
    throw error;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HttpError("api.invalid_json", "the request body is not a JSON object");
  }
  return value as Record<string, unknown>;
}

const send = sendJson;

function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const [status, body] = errorAnswer(error);
  const answer: ErrorAnswer = { error: body };
  send(res, status, answer);
}

/** A user's error as its JSON with the status of its code; anything else is a bug: 500. */
function errorAnswer(error: unknown): [number, ErrorBody] {
  if (error instanceof BatonError) {
    const body = error.toJSON();
    return [httpStatusOf(body.code), body];
  }
  return [
    500,
    { code: "internal", message: error instanceof Error ? error.message : String(error) },
  ];
}
