export * from "./client.ts";
export {
  DEFAULT_PLANNER_PORT,
  startPlannerServer,
  type PlannerServer,
  type PlannerServerOptions,
} from "./server.ts";
export { checkProblem } from "./validate.ts";
export { PLANNER_PROTO, plannerService } from "./proto.ts";
