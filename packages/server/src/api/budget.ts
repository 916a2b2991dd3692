import { createRoute } from "@hono/zod-openapi";
import { budgetStatusSchema } from "@ciab/protocol";
import type { BudgetService } from "../services/budget-service.js";
import { createRouter } from "./api-env.js";
import { errorResponses, jsonContent, named, noQuery } from "./schemas.js";

const status = createRoute({
  method: "get",
  path: "/budget",
  summary: "The caller's workspace against its hourly cost cap, this clock hour",
  description: "What the workspace's sandboxes cost in this UTC hour and `[budget] max_hourly_usd`; past the cap, new sandboxes and sessions are refused with `cost_cap_reached` until `resets_at`.",
  request: { query: noQuery },
  responses: { 200: jsonContent(named(budgetStatusSchema, "BudgetStatus"), "Spent and cap"), ...errorResponses },
});

export function budgetRoutes(budget: BudgetService) {
  return createRouter().openapi(status, async (c) => c.json(await budget.status(c.var.principal.workspaceID), 200));
}
