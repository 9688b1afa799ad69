/**
 * spec/: baton.yaml → typed, validated, immutable Definition, or a SpecError listing every
 * problem with its file:line:col. Other modules import from here only.
 */

export { BUILT_IN_ALERT_NAMES } from "./alert-checks.js";
export type { AlertingSpec, AlertRuleSpec, NotifierDefinition } from "./alert-model.js";
export type { Diagnostic, FormatOptions } from "./errors.js";
export { SpecError } from "./errors.js";
export {
  type DefinitionFiles,
  diskFiles,
  type FolderContent,
  type PathKind,
} from "./files.js";
export { resourceIdentity } from "./host-identity.js";
export type {
  CommandResource,
  DirectoryResource,
  FileResource,
  GroupResource,
  HostModuleName,
  HostResource,
  HostResourceDecl,
  HostSpec,
  HostsDefinition,
  LineInFileResource,
  LocalHost,
  PackageResource,
  ServiceResource,
  SshHost,
  SshSettings,
  SymlinkResource,
  SysctlResource,
  UserResource,
} from "./host-model.js";
export { expandVariables } from "./interpolate.js";
export { editorJsonSchema } from "./json-schema.js";
export { loadDefinition, type ParseOptions, parseDefinition } from "./loader.js";
export type {
  AppSpec,
  BuildSpec,
  Command,
  ContainerSpec,
  Definition,
  DefinitionContent,
  ExecProbe,
  HttpProbe,
  ImageCommand,
  Probe,
  RegistryAuthSpec,
  ReplicaBudget,
  RestartPolicy,
  RuntimeKind,
  TcpProbe,
  UpdatePolicy,
} from "./model.js";
export { parseAge } from "./pipeline-build.js";
export type {
  BuildStep,
  DeployStep,
  PipelineConcurrency,
  PipelineRetention,
  PipelineSource,
  PipelineSpec,
  PipelineStep,
  PipelineTriggers,
  PromoteStep,
  RunStep,
  StepCache,
  StepCommon,
} from "./pipeline-model.js";
export { PIPELINE_DEFAULTS } from "./pipeline-schema.js";
export { appRevision, revisionContent } from "./revision.js";
export { type DetectedProject, starterDefinition } from "./starter.js";
export { formatDuration, parseDuration, parseSize } from "./units.js";
