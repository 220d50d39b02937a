import { type FunctionDefinition, routes } from "@leadflow/manifest";
import { Api as HttpApi, type StackContext, use } from "sst/constructs";
import { type FunctionResources, functionProps } from "./functions.ts";
import { Messaging } from "./Messaging.ts";
import { suppressApiFindings, suppressFunctionFindings } from "./nag.ts";
import { Secrets } from "./Secrets.ts";
import { Storage } from "./Storage.ts";

/** The public HTTP API (API Gateway HTTP API, payload 2.0): one function per manifest route. */
export function Api({ stack }: StackContext) {
  const resources: FunctionResources = { ...use(Storage), ...use(Messaging), ...use(Secrets) };
  const definitions = Object.entries(routes) as [string, FunctionDefinition][];

  const api = new HttpApi(stack, "api", {
    routes: Object.fromEntries(
      definitions.map(([routeKey, definition]) => [routeKey, { function: functionProps(definition, resources) }]),
    ),
    // Platforms, servers and admin tools call this API, never a browser: no CORS.
    cors: false,
    // Access logs hold caller IPs: kept a month, not forever.
    accessLog: { retention: "one_month" },
  });
  for (const [routeKey, definition] of definitions) {
    const handler = api.getFunction(routeKey);
    if (handler) suppressFunctionFindings(handler, definition, resources.table);
  }
  suppressApiFindings(api);

  stack.addOutputs({ ApiUrl: api.url });
  return { api };
}
