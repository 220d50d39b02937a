import type { ServerResponse } from "node:http";

/** A JSON answer from a local tool. */
export function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
