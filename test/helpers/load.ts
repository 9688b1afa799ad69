import { Agent, request } from "node:http";

export interface LoadReport {
  readonly ok: number;
  readonly failed: number;
  readonly errors: readonly string[];
}

/**
 * Continuous keep-alive GETs on 127.0.0.1:port from `connections` clients until `stop()` is
 * called, bounded by `maxMs` and `maxRequests` whatever happens.
 */
export class Load {
  private ok = 0;
  private failed = 0;
  private readonly errors: string[] = [];
  private stopped = false;
  private readonly agent: Agent;
  private readonly loops: Promise<void>[] = [];
  private readonly deadline: number;

  constructor(
    private readonly port: number,
    connections = 4,
    maxMs = 60_000,
    private readonly maxRequests = 200_000,
    private readonly path = "/",
    private readonly method = "GET",
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
    this.deadline = Date.now() + maxMs;
    for (let i = 0; i < connections; i++) this.loops.push(this.loop());
  }

  get counts(): { ok: number; failed: number } {
    return { ok: this.ok, failed: this.failed };
  }

  async stop(): Promise<LoadReport> {
    this.stopped = true;
    await Promise.all(this.loops);
    this.agent.destroy();
    return { ok: this.ok, failed: this.failed, errors: this.errors.slice(0, 20) };
  }

  private async loop(): Promise<void> {
    while (
      !this.stopped &&
      Date.now() < this.deadline &&
      this.ok + this.failed < this.maxRequests
    ) {
      const error = await this.once();
      if (error === undefined) this.ok += 1;
      else {
        this.failed += 1;
        if (this.errors.length < 100) this.errors.push(error);
      }
    }
  }

  private once(): Promise<string | undefined> {
    return new Promise((resolve) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: this.port,
          path: this.path,
          method: this.method,
          agent: this.agent,
          timeout: 10_000,
        },
        (res) => {
          res.resume();
          res.on("end", () =>
            resolve(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`),
          );
          res.on("error", (e) => resolve(e.message));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (e) => resolve(e.message));
      req.end();
    });
  }
}
