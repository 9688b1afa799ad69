/**
 * What a Swarm service can express, checked before anything runs. Swarm runs one health
 * check per service, inside the task's container, and it both gates the task (a task stays
 * `starting` until healthy, so rollouts wait for it) and restarts it when it fails. Baton
 * cannot run an http or tcp probe there without a tool in the image, so a swarm app
 * states its check as a command.
 */
import type { Report } from "./checks.js";
import { type Fields, isFields } from "./fields.js";
import { formatPath, type Path } from "./phrases.js";

export function checkSwarmApp(app: Fields, path: Path, report: Report): void {
  if (app.runtime !== "swarm") {
    if (app.publish !== undefined) {
      report(
        "spec.invalid_value",
        [...path, "publish"],
        "key",
        `${formatPath([...path, "publish"])} applies to Swarm services, but ${formatPath(path)} runs with runtime: ${String(app.runtime ?? "process")}`,
        "add `runtime: swarm`, or remove this key",
        { expected: "runtime: swarm", found: `runtime: ${String(app.runtime ?? "process")}` },
      );
    }
    return;
  }
  const health = isFields(app.health) ? app.health : {};
  const readiness = health.readiness;
  if (isFields(readiness)) {
    for (const kind of ["http", "tcp"]) {
      if (!Object.hasOwn(readiness, kind)) continue;
      const probePath = [...path, "health", "readiness", kind];
      report(
        "spec.invalid_value",
        probePath,
        "key",
        `${formatPath(probePath)}: a swarm app's readiness runs as the service's health check inside its containers, where Baton cannot make ${kind} requests`,
        kind === "http"
          ? 'write it as a command the image can run, e.g. `exec: ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]`'
          : 'write it as a command the image can run, e.g. `exec: ["nc", "-z", "127.0.0.1", "8080"]`',
        { expected: "readiness: { exec: [...] }", found: `readiness: { ${kind}: ... }` },
      );
    }
  }
  if (health.liveness !== undefined) {
    const livenessPath = [...path, "health", "liveness"];
    report(
      "spec.invalid_value",
      livenessPath,
      "key",
      `${formatPath(livenessPath)}: a Swarm service has one health check, and its readiness check already restarts a task that fails it`,
      "remove liveness and keep readiness (an exec command)",
      { expected: "readiness only", found: "liveness" },
    );
  }
  if (app.publish === "mesh" && app.port === undefined) {
    report(
      "spec.missing_field",
      [...path, "publish"],
      "value",
      `${formatPath(path)} publishes through Swarm's routing mesh but has no \`port\` to publish`,
      "add `port: N` (published on every node), or use `publish: host`",
      { expected: "a port with publish: mesh", found: "no port" },
    );
  }
}
