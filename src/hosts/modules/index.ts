/** Every host module, by the `module` name a resource carries. */
import type { HostModuleName, HostResource } from "../../definition/host-model.js";
import { commandModule } from "./command.js";
import { directoryModule } from "./directory.js";
import { fileModule } from "./file.js";
import { groupModule } from "./group.js";
import { lineInFileModule } from "./lineinfile.js";
import type { HostModule } from "./module.js";
import { packageModule } from "./package.js";
import { serviceModule } from "./service.js";
import { symlinkModule } from "./symlink.js";
import { sysctlModule } from "./sysctl.js";
import { userModule } from "./user.js";

type ModuleTable = {
  readonly [K in HostModuleName]: HostModule<Extract<HostResource, { module: K }>>;
};

const MODULES: ModuleTable = {
  package: packageModule,
  file: fileModule,
  directory: directoryModule,
  symlink: symlinkModule,
  user: userModule,
  group: groupModule,
  service: serviceModule,
  command: commandModule,
  lineinfile: lineInFileModule,
  sysctl: sysctlModule,
};

export function moduleFor<R extends HostResource>(resource: R): HostModule<R> {
  // The table pairs each name with its module, so the resource's name picks the right one.
  return MODULES[resource.module] as unknown as HostModule<R>;
}
