import { ProcessDriver } from "../../src/runtime/process/index.js";
import { runtimeConformance } from "./conformance.js";

runtimeConformance("process", (stateDir) => new ProcessDriver({ stateDir }));
