import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localHosts, startGateway } from "../../packages/local/src/gateway.ts";
import { expectErrorBody } from "../helpers/errors.ts";

let gateway: Awaited<ReturnType<typeof startGateway>>;
const calls: string[] = [];

beforeAll(async () => {
  gateway = await startGateway(0);
  gateway.serve([
    {
      routeKey: "POST /webhooks/{source}",
      functionName: "test",
      timeoutSeconds: 5,
      handler: async () => {
        calls.push("route");
        return { statusCode: 202, body: "{}" };
      },
    },
    // Listed after the `{source}` route it overlaps, as a manifest may list it.
    {
      routeKey: "POST /webhooks/literal",
      functionName: "literal",
      timeoutSeconds: 5,
      handler: async () => {
        calls.push("literal");
        return { statusCode: 200, body: "{}" };
      },
    },
  ]);
  gateway.mount("/_local/tool", async (_request, response) => {
    calls.push("tool");
    response.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});

afterAll(() => gateway.close());

/** A request with the `Host` header a browser would send for the page's own name. */
function send(method: string, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: "127.0.0.1", port: gateway.port, method, path, headers: { host, "content-type": "application/json" } },
      (response) => {
        let body = "";
        response.setEncoding("utf8").on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on("error", reject).end(method === "POST" ? '{"email":"ada@example.com"}' : undefined);
  });
}

const paths = [
  ["an API route", "POST", "/webhooks/form", "route"],
  ["a /_local tool", "GET", "/_local/tool/calls", "tool"],
] as const;

describe.each(paths)("the local gateway, for %s", (_name, method, path, handler) => {
  it.each([
    "evil.example:{port}",
    "127.0.0.1.evil.example",
    "127.0.0.1.evil.example:{port}",
    "localhost:1",
    "localhost",
  ])("refuses Host %s with 403 before running anything", async (host) => {
    calls.length = 0;
    const response = await send(method, path, host.replace("{port}", String(gateway.port)));
    expect(response.status).toBe(403);
    expectErrorBody(JSON.parse(response.body), "forbidden");
    expect(calls).toEqual([]);
  });

  it.each(["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "LocalHost:{port}"])(
    "serves Host %s",
    async (host) => {
      calls.length = 0;
      const response = await send(method, path, host.replace("{port}", String(gateway.port)));
      expect(response.status).toBeLessThan(300);
      expect(calls).toEqual([handler]);
    },
  );
});

it("takes a Host without a port only on port 80, where HTTP leaves the port out", () => {
  expect([...localHosts(80)].sort()).toEqual(
    ["127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:80", "localhost", "localhost:80"].sort(),
  );
  expect([...localHosts(3000)].sort()).toEqual(["127.0.0.1:3000", "[::1]:3000", "localhost:3000"].sort());
});

describe("routes", () => {
  it("prefer a literal path over a {param}, as API Gateway does, whatever the order they are listed in", async () => {
    calls.length = 0;
    expect((await send("POST", "/webhooks/literal", `localhost:${gateway.port}`)).status).toBe(200);
    expect((await send("POST", "/webhooks/form", `localhost:${gateway.port}`)).status).toBe(202);
    expect(calls).toEqual(["literal", "route"]);
  });
});
