import { existsSync } from "node:fs";
import { DockerDriver, DockerEngine } from "./docker/index.js";
import type { Driver, Handle, RuntimeKind } from "./driver.js";
import { ProcessDriver } from "./process/index.js";

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
   * Make the docker driver even when no engine socket is there yet: the definition has
   * docker apps, and the engine's own error says more than "no engine" when they start.
   */
  readonly wantDocker?: boolean;
}

/**
 * The drivers that run replicas on this machine: processes always, containers when a Docker
 * engine may answer (its socket exists) or is wanted. Swarm apps are still their own
 * reconciler's (apps/swarm-apps.ts); swarm joins the registry as a scheduler-backed driver.
 */
export function localDrivers(options: LocalDriversOptions): DriverRegistry {
  const drivers: Driver[] = [new ProcessDriver({ stateDir: options.stateDir })];
  const engine = new DockerEngine();
  if (existsSync(engine.socketPath) || options.wantDocker === true) {
    drivers.push(
      new DockerDriver({
        stateDir: options.stateDir,
        engine,
        ...(options.project === undefined ? {} : { project: options.project }),
      }),
    );
  }
  return new DriverRegistry(drivers, {
    docker: "no Docker engine answers (runtime: docker): start dockerd, or set DOCKER_HOST",
    swarm: "bug: a swarm app reached the apps reconciler",
  });
}
