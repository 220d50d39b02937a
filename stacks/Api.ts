import { type FunctionDefinition, routes } from "@leadflow/manifest";
import { StringParameter } from "aws-cdk-lib/aws-ssm";
import { Api as HttpApi, type StackContext, use } from "sst/constructs";
import { Alarms } from "./Alarms.ts";
import { type FunctionResources, functionProps, publicUrlParameterName } from "./functions.ts";
import { Messaging } from "./Messaging.ts";
import { alarmOnFunctionFailures, alarmOnServerErrors } from "./monitoring.ts";
import { suppressApiFindings, suppressFunctionFindings } from "./nag.ts";
import { Secrets } from "./Secrets.ts";
import { Storage } from "./Storage.ts";
import { operationsSettings, outboundSettings } from "./settings.ts";

/**
 * The public HTTP API (API Gateway HTTP API, payload 2.0): one function per manifest route, with
 * its alarms, an alarm on any 5xx answer, and every route throttled at API_THROTTLE_RATE /
 * API_THROTTLE_BURST.
 */
export function Api({ stack }: StackContext) {
  const resources: FunctionResources = { ...use(Storage), ...use(Messaging), ...use(Secrets) };
  const { alarmTopic } = use(Alarms);
  const definitions = Object.entries(routes) as [string, FunctionDefinition][];

  const api = new HttpApi(stack, "api", {
    routes: Object.fromEntries(
      definitions.map(([routeKey, definition]) => [
        routeKey,
        { function: functionProps(stack, routeKey, definition, resources) },
      ]),
    ),
    // The $default stage's default route settings: over the limit, API Gateway answers 429.
    defaults: { throttle: operationsSettings().apiThrottle },
    // Platforms, servers and admin tools call this API, never a browser: no CORS.
    cors: false,
    // Access logs hold caller IPs: kept a month, not forever.
    accessLog: { retention: "one_month" },
  });
  for (const [routeKey, definition] of definitions) {
    const handler = api.getFunction(routeKey);
    if (!handler) throw new Error(`The API has no function for route "${routeKey}"`);
    suppressFunctionFindings(handler, definition, resources.table);
    alarmOnFunctionFailures(stack, routeKey, handler, alarmTopic);
  }
  alarmOnServerErrors(stack, api.cdk.httpApi, alarmTopic);
  suppressApiFindings(api);

  // PUBLIC_URL, the base of links in messages, for functions of any stack (those created before
  // this one cannot reference the API): read at cold start from SSM (docs/configuration.md).
  const publicUrl = outboundSettings().publicUrl ?? api.url;
  new StringParameter(stack, "public-url", {
    parameterName: publicUrlParameterName(stack),
    stringValue: publicUrl,
    description: "The base of links in messages (PUBLIC_URL)",
  });

  stack.addOutputs({ ApiUrl: api.url, PublicUrl: publicUrl });
  return { api };
}
