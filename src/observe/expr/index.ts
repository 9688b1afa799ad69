export type * from "./ast.js";
export { checkExpr, selectorsOf } from "./check.js";
export { ExprError, type ExprErrorCode } from "./errors.js";
export { evaluate, type InstantVector, type VectorElement } from "./evaluate.js";
export { parseExpr } from "./parser.js";
