import { existsSync } from "node:fs";
import type { Definition } from "../definition/index.js";
import { DockerDriver, DockerEngine } from "./docker/index.js";
import {
  type Driver,
  type Handle,
  isScheduler,
  type RuntimeKind,
  type SchedulerDriver,
} from "./driver.js";
import { ProcessDriver } from "./process/index.js";
import { SwarmClient, SwarmDriver } from "./swarm/index.js";

/**
 * The drivers of one state directory, by the `runtime:` name apps give: the one place that
 * knows which drivers exist. Everything else asks it for a driver by name (or by the handle
 * a driver made) and talks to the contract.
 */
export class DriverRegistry {
  private readonly drivers = new Map<RuntimeKind, Driver>();

  /** `missing`: why a runtime has no driver here, said when it is asked for. */
  constructor(
    drivers: readonly Driver[],
    private readonly missing: Partial<Record<RuntimeKind, string>> = {},
  ) {
    for (const driver of drivers) this.drivers.set(driver.name, driver);
  }

  /** The driver of `runtime:`; throws why there is none (no engine answers, say). */
  get(kind: RuntimeKind): Driver {
    const driver = this.drivers.get(kind);
    if (driver !== undefined) return driver;
    throw new Error(this.missing[kind] ?? `bug: no driver runs replicas of runtime ${kind}`);
  }

  /** The driver that made `handle`. */
  of(handle: Pick<Handle, "driver">): Driver {
    return this.get(handle.driver);
  }

  /** The driver of `runtime:` when there is one here. */
  find(kind: RuntimeKind): Driver | undefined {
    return this.drivers.get(kind);
  }

  /** The drivers whose scheduler owns placement and rollout: Baton hands them whole apps. */
  schedulers(): readonly SchedulerDriver[] {
    return this.all().filter(isScheduler);
  }

  /**
   * Whether apps of `runtime:` are handed whole to a scheduler. A runtime with no driver here
   * is not: its apps go to the replica-level reconciler, whose start says why none runs them.
   */
  ownsRollout(kind: RuntimeKind): boolean {
    return this.drivers.get(kind)?.capabilities.schedulerOwnsRollout === true;
  }

  /** Every driver, in a stable order (the order they were given). */
  all(): readonly Driver[] {
    return [...this.drivers.values()];
  }

  /**
   * The live replicas of every driver, found again from their own records. A driver whose
   * backend does not answer (an engine that is down) has none: `onError` is told why.
   */
  async recoverAll(onError: (driver: Driver, error: Error) => void = () => {}): Promise<Handle[]> {
    const found: Handle[] = [];
    for (const driver of this.all()) {
      try {
        found.push(...(await driver.recover()));
      } catch (error) {
        onError(driver, error as Error);
      }
    }
    return found;
  }

  /** Closes every driver; their replicas keep running. */
  async close(): Promise<void> {
    await Promise.all(this.all().map((driver) => driver.close()));
  }
}

export interface LocalDriversOptions {
  readonly stateDir: string;
  /** Scopes the names of what drivers create (the definition's project). */
  readonly project?: string;
  /**
   * The runtimes the definition names: their drivers are made even when no engine socket is
   * there yet, so the engine's own error says more than "no engine" when they run.
   */
  readonly wanted?: ReadonlySet<RuntimeKind>;
}

/**
 * The drivers of this machine: processes always; containers, and Swarm services (the
 * engine's scheduler), when a Docker engine may answer (its socket exists) or is wanted.
 */
export function localDrivers(options: LocalDriversOptions): DriverRegistry {
  const drivers: Driver[] = [new ProcessDriver({ stateDir: options.stateDir })];
  const engine = new DockerEngine();
  const engineHere = existsSync(engine.socketPath);
  const wants = (kind: RuntimeKind) => engineHere || options.wanted?.has(kind) === true;
  if (wants("docker")) {
    drivers.push(
      new DockerDriver({
        stateDir: options.stateDir,
        engine,
        ...(options.project === undefined ? {} : { project: options.project }),
      }),
    );
  }
  if (wants("swarm")) {
    drivers.push(new SwarmDriver({ stateDir: options.stateDir, client: new SwarmClient(engine) }));
  }
  const noEngine = (kind: RuntimeKind) =>
    `no Docker engine answers (runtime: ${kind}): start dockerd, or set DOCKER_HOST`;
  return new DriverRegistry(drivers, { docker: noEngine("docker"), swarm: noEngine("swarm") });
}

/** The runtimes a definition's apps name, for `wanted`. */
export function runtimesOf(definition: Definition): ReadonlySet<RuntimeKind> {
  return new Set(Object.values(definition.apps).map((app) => app.runtime));
}

/**
 * The scheduler-backed drivers alone, for a plan made before the state directory exists:
 * they touch neither the disk nor an engine until asked (the process driver makes folders).
 */
export function localSchedulers(stateDir: string): DriverRegistry {
  return new DriverRegistry([new SwarmDriver({ stateDir })]);
}
