import { ProcessRuntime } from "../../src/runtime/process/index.js";
import { runtimeConformance } from "./conformance.js";

runtimeConformance("process", (stateDir) => new ProcessRuntime({ stateDir }));
