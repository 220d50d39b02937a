import type { IncomingMessage, ServerResponse } from "node:http";
import { readJson } from "./reply.ts";

const maxCallsKept = 1_000;

/**
 * A stand-in for the Meta Graph API's lead lookup (`GET /{version}/{leadgen_id}`), so Meta leads
 * can be captured on a machine with no internet. `npm start` serves it under
 * `/_local/meta-graph` unless META_GRAPH_URL points elsewhere. Leads are added with
 * `POST …/leads` (`{ "<leadgen_id>": <Graph lead> }`), failures switched on and off with
 * `POST …/outage` (`{ "on": true }`), and `GET …/calls` lists the last 1,000 lookups answered.
 */
export function metaGraphStandIn() {
  const leads = new Map<string, unknown>();
  const calls: { leadgenId: string; accessToken: string | null; status: number }[] = [];
  let outage = false;

  return async function handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const reply = (status: number, body: unknown): void => {
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (path === "/leads" && request.method === "POST") {
      for (const [id, lead] of Object.entries(((await readJson(request)) ?? {}) as Record<string, unknown>))
        leads.set(id, lead);
      return reply(200, { leads: leads.size });
    }
    if (path === "/outage" && request.method === "POST") {
      outage = (((await readJson(request)) ?? {}) as { on?: boolean }).on === true;
      return reply(200, { outage });
    }
    if (path === "/calls") return reply(200, calls);

    const leadgenId = path.split("/").at(-1) ?? "";
    const [status, body] = outage
      ? [503, graphError("An unexpected error has occurred. Please retry your request later.", "OAuthException", 2)]
      : leads.has(leadgenId)
        ? [200, leads.get(leadgenId)]
        : [400, graphError(`Object with ID '${leadgenId}' does not exist`, "GraphMethodException", 100)];
    calls.push({
      leadgenId,
      accessToken: new URL(request.url ?? "/", "http://x").searchParams.get("access_token"),
      status,
    });
    if (calls.length > maxCallsKept) calls.shift();
    reply(status, body);
  };
}

function graphError(message: string, type: string, code: number) {
  return { error: { message, type, code, fbtrace_id: "LocalStandIn" } };
}
