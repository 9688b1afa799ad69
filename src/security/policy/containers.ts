/** The `containers:` rules, against one app that runs as containers (docker or swarm). */

import { formatPath } from "../../definition/phrases.js";
import type { AppInput } from "../../definition/schema.js";
import { capabilityName, isRootUser, mountDanger } from "./dangers.js";
import type { Violation } from "./rules.js";
import type { PolicyInput } from "./schema.js";

type ContainerRules = NonNullable<PolicyInput["containers"]>;

export interface ContainerApp {
  readonly name: string;
  readonly app: AppInput;
  /** The image replicas run: `image`, or `<registry>/<project>/<app>` when Baton builds it. */
  readonly image: string;
  readonly projectDir: string;
}

/** Docker's rule: the first part of a name is a registry when it has a dot, a port or is localhost. */
function withRegistry(image: string): string {
  const first = image.split("/")[0] ?? "";
  const named =
    image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return named ? image : `docker.io/${image}`;
}

export function checkContainerApp(c: ContainerApp, rules: ContainerRules): Violation[] {
  const { name, app } = c;
  const path = ["apps", name];
  const found: Violation[] = [];
  const add = (v: Omit<Violation, "area">) => found.push({ area: "containers", ...v });
  const user = app.user ?? "65534:65534";
  if (rules.nonRoot === true && isRootUser(user)) {
    add({
      rule: ["nonRoot"],
      path: [...path, "user"],
      what: `${formatPath([...path, "user"])} is ${user}`,
      expected: "a user that is not root, such as 1000:1000",
      found: user,
      hint: "run the app as an unprivileged user (the default, 65534:65534, if it needs no other)",
    });
  }
  if (rules.readOnlyRootfs === true && app.writableRootfs) {
    add({
      rule: ["readOnlyRootfs"],
      path: [...path, "writableRootfs"],
      what: `${formatPath([...path, "writableRootfs"])} is true`,
      expected: "a read-only root filesystem",
      found: "writableRootfs: true",
      hint: "remove `writableRootfs: true` and write to /tmp or to a volume instead",
    });
  }
  if (rules.noPrivilegedMounts === true) {
    for (const [index, volume] of app.volumes.entries()) {
      const danger = mountDanger(volume, c.projectDir);
      if (danger === undefined) continue;
      const at = [...path, "volumes", index];
      add({
        rule: ["noPrivilegedMounts"],
        path: at,
        what: `${formatPath(at)} ${volume.split(":")[0]} ${danger}`,
        expected: "a named volume or a folder of the project",
        found: volume,
        hint: "mount a named volume or a folder inside the project; allowPrivileged does not lift this rule",
      });
    }
  }
  if (rules.allowedCapabilities !== undefined) {
    const allowed = rules.allowedCapabilities.map(capabilityName);
    for (const [index, cap] of app.capabilities.entries()) {
      if (allowed.includes(capabilityName(cap))) continue;
      const at = [...path, "capabilities", index];
      add({
        rule: ["allowedCapabilities"],
        path: at,
        what: `${formatPath(at)} adds ${cap}`,
        expected: allowed.length === 0 ? "no capability" : `one of ${allowed.join(", ")}`,
        found: cap,
        hint: `remove ${cap} from the app's capabilities`,
      });
    }
  }
  if (rules.requireResources === true) {
    const missing = (["memory", "cpus"] as const).filter((k) => app.resources?.[k] === undefined);
    if (missing.length > 0) {
      const at = app.resources === undefined ? path : [...path, "resources"];
      add({
        rule: ["requireResources"],
        path: at,
        what: `${formatPath(path)} sets no ${missing.map((k) => `resources.${k}`).join(" and ")}`,
        expected: "resources.memory and resources.cpus",
        found: app.resources === undefined ? "no resources" : `no ${missing.join(", ")}`,
        hint: "add e.g. `resources: { memory: 256Mi, cpus: 0.5 }` to the app",
      });
    }
  }
  if (rules.allowedRegistries !== undefined) {
    const full = withRegistry(c.image);
    if (!rules.allowedRegistries.some((r) => full.startsWith(`${r.replace(/\/+$/, "")}/`))) {
      const at = app.build === undefined ? [...path, "image"] : [...path, "build"];
      add({
        rule: ["allowedRegistries"],
        path: at,
        what: `${formatPath(path)} runs ${c.image}`,
        expected: `an image from ${rules.allowedRegistries.join(", ")}`,
        found: full,
        hint: "push the image to an allowed registry and name it from there",
      });
    }
  }
  if (rules.pinnedImages === true && app.build === undefined && !c.image.includes("@sha256:")) {
    add({
      rule: ["pinnedImages"],
      path: [...path, "image"],
      what: `${formatPath([...path, "image"])} ${c.image} is not pinned`,
      expected: "an image named by digest, such as shop/api@sha256:…",
      found: c.image,
      hint: "name the image by its digest (`docker image inspect --format '{{.RepoDigests}}'`), or let Baton build it",
    });
  }
  return found;
}
