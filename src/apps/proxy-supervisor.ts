import { delay } from "../util/wait.js";
import type { ProxyPort, ProxyRoute } from "./apps-reconciler.js";
import { ProxyClient, type ProxyStats, proxyOwner, type RoutesSnapshot } from "./proxy/index.js";

/** How often the proxy's health is checked; a dead proxy is replaced within about this. */
const CHECK_EVERY_MS = 1_000;
/** A health check the proxy does not answer within this counts as unanswered. */
const CHECK_TIMEOUT_MS = 1_000;
/**
 * A proxy that is alive but has answered no check for this long is hung: it is killed and
 * replaced. Sooner, and it may only be busy: starting a second one beside it would leave
 * two processes fighting over the ports.
 */
const HUNG_AFTER_MS = 10_000;

/**
 * The controller's handle on the proxy process: forwards route changes to the live proxy
 * and replaces a proxy that died (it reloads its last routes from disk at start; the apps
 * reconciler then sends the current pools again).
 */
export class ProxySupervisor implements ProxyPort {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  /** Set by close(): a check still under way must not start a proxy after it. */
  private closed = false;
  /** Since when the live proxy has answered no health check. */
  private unansweredSince: number | undefined;

  private constructor(
    private readonly stateDir: string,
    private client: ProxyClient,
    private readonly onReplaced: (oldPid: number, newPid: number) => void,
  ) {}

  static async start(
    stateDir: string,
    onReplaced: (oldPid: number, newPid: number) => void,
  ): Promise<ProxySupervisor> {
    const client = await ProxyClient.ensure(stateDir);
    const supervisor = new ProxySupervisor(stateDir, client, onReplaced);
    supervisor.timer = setInterval(() => void supervisor.check(), CHECK_EVERY_MS);
    supervisor.timer.unref();
    return supervisor;
  }

  get pid(): number {
    return this.client.pid;
  }

  async setRoute(app: string, route: ProxyRoute): Promise<void> {
    await this.client.setRoute(app, {
      port: route.port,
      host: route.host,
      protocol: route.protocol,
      backends: route.backends.map((b) => ({ ...b })),
    });
  }

  async deleteRoute(app: string, timeoutMs: number): Promise<void> {
    await this.client.deleteRoute(app, timeoutMs);
  }

  drain(
    app: string,
    id: string,
    timeoutMs: number,
  ): Promise<{ drained: boolean; inflight: number }> {
    return this.client.drain(app, id, timeoutMs);
  }

  routes(): Promise<RoutesSnapshot> {
    return this.client.routes();
  }

  /** The live proxy's golden signals (`GET /stats`), for the metrics sampler. */
  stats(): Promise<ProxyStats> {
    return this.client.stats();
  }

  /** Stops supervising; with `stopProxy`, the proxy process too (`baton down`). */
  async close(stopProxy: boolean): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    if (stopProxy) await this.client.stop(15_000);
  }

  private async check(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    try {
      if (await this.client.health(CHECK_TIMEOUT_MS).catch(() => false)) {
        this.unansweredSince = undefined;
        return;
      }
      // `baton down` stops the proxy while this check waited: that is no death to heal.
      if (this.closed) return;
      const oldPid = this.client.pid;
      const alive = proxyOwner(this.stateDir);
      if (alive !== undefined) {
        this.unansweredSince ??= Date.now();
        if (Date.now() - this.unansweredSince < HUNG_AFTER_MS) return;
        process.kill(alive, "SIGKILL");
        await waitGone(alive);
      }
      this.unansweredSince = undefined;
      if (this.closed) return;
      this.client = await ProxyClient.ensure(this.stateDir);
      this.onReplaced(oldPid, this.client.pid);
    } catch {
      // Not startable right now (e.g. during shutdown); the next check tries again.
    } finally {
      this.checking = false;
    }
  }
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await delay(20);
  }
}
