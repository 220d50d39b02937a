import { readFileSync } from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { testSecrets } from "../helpers/secrets.ts";
import { stackClient } from "../helpers/stack-client.ts";

const client = stackClient();

async function errorCode(response: Response) {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe("the local stack's read API and probes", () => {
  it("answers GET /health", async () => {
    const response = await client.get("/health", {});
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("refuses lead reads without the right API key", async () => {
    const missing = await client.get("/leads/anything", {});
    const wrong = await client.get("/leads/anything", { "x-api-key": "guess" });
    expect([missing.status, wrong.status]).toEqual([401, 401]);
    expect(await errorCode(missing)).toBe("unauthorized");
  });

  it("answers 404 for an unknown lead and an empty list for an unknown email", async () => {
    const response = await client.get("/leads/no-such-lead");
    expect(response.status).toBe(404);
    expect(await errorCode(response)).toBe("not_found");
    expect(await client.leadsByEmail("nobody@nowhere.example")).toEqual([]);
  });

  it("answers 422 to a lookup without email or phone, or with a bad one", async () => {
    expect((await client.get("/leads")).status).toBe(422);
    expect((await client.get("/leads?email=not-an-email")).status).toBe(422);
    expect((await client.get("/leads?phone=12")).status).toBe(422);
  });

  it("answers Meta's subscription handshake", async () => {
    const query = (token: string) =>
      `/webhooks/meta?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444`;
    const accepted = await client.get(query(testSecrets.META_VERIFY_TOKEN), {});
    expect(accepted.status).toBe(200);
    expect(await accepted.text()).toBe("1158201444");
    const refused = await client.get(query("guess"), {});
    expect(refused.status).toBe(403);
    expect((await client.get("/webhooks/form", {})).status).toBe(404);
  });

  it("answers 400 to a path that is not valid URL encoding", async () => {
    const response = await client.get("/leads/%E0%A4%A");
    expect(response.status).toBe(400);
    expect(await errorCode(response)).toBe("invalid_request");
  });

  it("answers 404 with the error JSON on a route that does not exist", async () => {
    const response = await client.get("/nope", {});
    expect(response.status).toBe(404);
    expect(await errorCode(response)).toBe("not_found");
  });
});

describe("the local stack's network exposure", () => {
  it("listens on the loopback interface only: API, DynamoDB and SQS", () => {
    const stack = inject("stack");
    for (const url of [stack.url, stack.dynamodbEndpoint, stack.sqsEndpoint]) {
      const port = Number(new URL(url).port);
      expect(listeningAddresses(port), url).toEqual(["127.0.0.1"]);
    }
  });
});

/** The local addresses listening on a TCP port, from /proc/net/tcp{,6} (Linux). */
function listeningAddresses(port: number): string[] {
  const listening = "0A";
  const addresses = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [address, portHex] = (local ?? "").split(":");
      if (state !== listening || Number.parseInt(portHex ?? "", 16) !== port) continue;
      addresses.add(address === "0100007F" ? "127.0.0.1" : (address ?? ""));
    }
  }
  return [...addresses];
}
