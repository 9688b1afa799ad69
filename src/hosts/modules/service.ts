/**
 * `service`: running or stopped, enabled at boot or not. systemd where it runs (the host
 * booted with it: /run/systemd/system exists), the init script and update-rc.d otherwise
 * (containers, older hosts).
 */
import type { ServiceResource } from "../../definition/host-model.js";
import type { ApplyStep, FieldChange, HostModule, ProbeResult } from "./module.js";
import { moduleScript } from "./module-script.js";

/**
 * Line 1: `systemd` or `sysv`. Then `running` / `stopped` / `missing`, then `enabled` /
 * `disabled`. An init script's status is LSB: 0 is running, anything else is not.
 */
const PROBE_SCRIPT = moduleScript(
  [
    "if [ -d /run/systemd/system ]; then",
    "  echo systemd",
    '  if [ "$(systemctl is-active -- "$1")" = active ]; then echo running;',
    '  elif systemctl cat -- "$1" >/dev/null 2>&1; then echo stopped; else echo missing; fi',
    '  case "$(systemctl is-enabled -- "$1" 2>/dev/null)" in enabled|enabled-runtime|alias|static|indirect|generated) echo enabled;; *) echo disabled;; esac',
    "else",
    "  echo sysv",
    '  if [ ! -x "/etc/init.d/$1" ]; then echo missing',
    '  elif "/etc/init.d/$1" status >/dev/null 2>&1 </dev/null; then echo running; else echo stopped; fi',
    '  for link in /etc/rc[2345].d/S[0-9][0-9]"$1"; do [ -e "$link" ] && { echo enabled; exit 0; }; done',
    "  echo disabled",
    "fi",
  ].join("\n"),
);

interface ServiceState {
  readonly manager: "systemd" | "sysv";
  readonly running: "running" | "stopped" | "missing";
  readonly enabled: boolean;
}

function observe(results: ReadonlyMap<string, ProbeResult>): ServiceState {
  const result = results.get("status");
  if (result === undefined) throw new Error('the probe "status" has no result');
  const [manager, running, enabled] = result.stdout.trim().split("\n");
  if (
    result.code !== 0 ||
    (manager !== "systemd" && manager !== "sysv") ||
    (running !== "running" && running !== "stopped" && running !== "missing")
  ) {
    throw new Error(
      `the service probe failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
  }
  return { manager, running, enabled: enabled === "enabled" };
}

export const serviceModule: HostModule<ServiceResource> = {
  module: "service",
  id: (resource) => resource.name,
  probes: (resource) => [{ id: "status", argv: ["sh", "-c", PROBE_SCRIPT, "sh", resource.name] }],

  diff(resource, results): FieldChange[] {
    const found = observe(results);
    const changes: FieldChange[] = [];
    // A service that is not there is stopped and disabled: installing it is a package's job.
    const running = found.running === "running" ? "running" : "stopped";
    if (resource.state !== undefined && resource.state !== running) {
      changes.push({
        field: "state",
        from: found.running === "missing" ? "missing" : running,
        to: resource.state,
      });
    }
    if (resource.enabled !== undefined && resource.enabled !== found.enabled) {
      changes.push({
        field: "enabled",
        from: String(found.enabled),
        to: String(resource.enabled),
      });
    }
    return changes;
  },

  apply(resource, changes, results): ApplyStep[] {
    const { manager } = observe(results);
    const steps: ApplyStep[] = [];
    const fields = new Set(changes.map((change) => change.field));
    const name = resource.name;
    if (fields.has("enabled")) {
      const argv =
        manager === "systemd"
          ? ["systemctl", resource.enabled ? "enable" : "disable", "--", name]
          : ["update-rc.d", name, resource.enabled ? "defaults" : "remove"];
      steps.push({ argv });
    }
    if (fields.has("state")) {
      const verb = resource.state === "running" ? "start" : "stop";
      steps.push({
        argv:
          manager === "systemd" ? ["systemctl", verb, "--", name] : [`/etc/init.d/${name}`, verb],
      });
    }
    return steps;
  },

  // A service belongs to its package: leaving the definition leaves it as it is, and
  // removing the package removes the service.
  removal: () => undefined,
};
