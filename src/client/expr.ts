/** An alert expression checked where it is typed, before a controller is asked to evaluate it. */
export { ExprError, parseExpr } from "../observe/expr/index.js";
