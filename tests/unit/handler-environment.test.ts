import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ListQueuesCommand } from "@aws-sdk/client-sqs";
import { clients, once, perConfig } from "@leadflow/lambda";
import { type HandlerEnvironment, isolateHandlerEnvironments, localEnvironmentFor, runAs } from "@leadflow/local";
import { consumers, type ResourceLocations, routes, schedules } from "@leadflow/manifest";
import { beforeAll, describe, expect, it } from "vitest";

function handler(name: string, variables: Record<string, string>): HandlerEnvironment {
  return { name, variables, unset: new Set(), unlisted: new Set() };
}

beforeAll(() => {
  isolateHandlerEnvironments();
});

describe("a handler's environment", () => {
  it("holds only its own variables: another name reads as undefined, and is noted", () => {
    const getLead = handler("GET /leads/{id}", { TABLE_NAME: "leadflow", ADMIN_API_KEY: "admin" });
    process.env.CAPTURE_QUEUE_URL = "http://queue";

    runAs(getLead, () => {
      expect(process.env.TABLE_NAME).toBe("leadflow");
      expect(process.env.CAPTURE_QUEUE_URL).toBeUndefined();
      expect("EVENTS_API_KEY" in process.env).toBe(false);
      expect(Object.keys(process.env).sort()).toEqual(["ADMIN_API_KEY", "TABLE_NAME"]);
      expect({ ...process.env }).toEqual({ TABLE_NAME: "leadflow", ADMIN_API_KEY: "admin" });
    });

    expect([...getLead.unlisted].sort()).toEqual(["CAPTURE_QUEUE_URL", "EVENTS_API_KEY"]);
    expect(process.env.CAPTURE_QUEUE_URL).toBe("http://queue");
    delete process.env.CAPTURE_QUEUE_URL;
  });

  it("reads a setting its entry lists but nobody set as undefined, without noting it", () => {
    const sender = {
      ...handler("consumer send", { TABLE_NAME: "leadflow" }),
      unset: new Set(["SES_CONFIGURATION_SET"]),
    };
    runAs(sender, () => {
      expect(process.env.SES_CONFIGURATION_SET).toBeUndefined();
      expect(process.env.SMS_INBOUND_TOPIC_ARN).toBeUndefined();
    });
    expect([...sender.unlisted]).toEqual(["SMS_INBOUND_TOPIC_ARN"]);
  });

  it("stays the handler's across awaits and timers, and what it writes stays its own", async () => {
    const first = handler("first", { SETTING: "one" });
    const second = handler("second", { SETTING: "two" });

    const seen = await Promise.all([
      runAs(first, async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        process.env.WRITTEN = "by first";
        return process.env.SETTING;
      }),
      runAs(second, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return [process.env.SETTING, process.env.WRITTEN];
      }),
    ]);

    expect(seen).toEqual(["one", ["two", undefined]]);
    expect(first.variables.WRITTEN).toBe("by first");
    expect(process.env.WRITTEN).toBeUndefined();
  });
});

describe("singletons under `npm start`", () => {
  it("are built per handler: once from each handler's own environment", () => {
    const tableName = once(() => process.env.TABLE_NAME);
    const reads = handler("reads", { TABLE_NAME: "table-a" });
    const writes = handler("writes", { TABLE_NAME: "table-b" });

    expect(runAs(reads, tableName)).toBe("table-a");
    expect(runAs(writes, tableName)).toBe("table-b");
    expect(runAs(reads, tableName)).toBe("table-a");
  });

  it("and per config: each handler rebuilds when its own config directory changes", () => {
    let builds = 0;
    const model = perConfig(() => `${process.env.LEADFLOW_CONFIG_DIR}#${++builds}`);
    const worker = handler("worker", { LEADFLOW_CONFIG_DIR: "/copies/1" });

    expect(runAs(worker, model)).toBe("/copies/1#1");
    expect(runAs(worker, model)).toBe("/copies/1#1");
    worker.variables.LEADFLOW_CONFIG_DIR = "/copies/2";
    expect(runAs(worker, model)).toBe("/copies/2#2");
  });

  it("never hands a handler an SDK client built from another handler's endpoint", async () => {
    // Two stand-in endpoints that note which one each request reached.
    const reached: string[] = [];
    const servers = await Promise.all(
      ["first", "second"].map(
        (name) =>
          new Promise<Server>((resolve) => {
            const server = createServer((request, response) => {
              reached.push(name);
              request.resume();
              response.writeHead(400, { "content-type": "application/x-amz-json-1.0" }).end("{}");
            });
            server.listen(0, "127.0.0.1", () => resolve(server));
          }),
      ),
    );
    const endpoint = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const credentials = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" };
    const first = handler("first", { ...credentials, AWS_ENDPOINT_URL_SQS: endpoint(servers[0] as Server) });
    const second = handler("second", { ...credentials, AWS_ENDPOINT_URL_SQS: endpoint(servers[1] as Server) });
    try {
      const call = () =>
        clients
          .sqs()
          .send(new ListQueuesCommand({}))
          .catch(() => undefined);
      await runAs(first, call);
      await runAs(second, call);
      await runAs(first, call);
    } finally {
      for (const server of servers) server.close();
    }
    expect(reached).toEqual(["first", "second", "first"]);
    expect(runAs(first, clients.sqs)).not.toBe(runAs(second, clients.sqs));
  });
});

describe("localEnvironmentFor", () => {
  const resources: ResourceLocations = {
    tableName: "leadflow",
    queueUrls: {
      capture: { url: "http://capture", deadLetterUrl: "http://capture-dlq" },
      events: { url: "http://events", deadLetterUrl: "http://events-dlq" },
      qualified: { url: "http://qualified", deadLetterUrl: "http://qualified-dlq" },
      outbound: { url: "http://outbound", deadLetterUrl: "http://outbound-dlq" },
      nurture: { url: "http://nurture", deadLetterUrl: "http://nurture-dlq" },
      deliverability: { url: "http://deliverability", deadLetterUrl: "http://deliverability-dlq" },
    },
    domainEventTopicArn: "arn:aws:sns:us-east-1:000000000000:leadflow-domain-events",
    workflowArns: {},
  };
  const context = {
    resources,
    runtime: { LEADFLOW_RUNTIME: "local", AWS_REGION: "us-east-1" },
    values: {
      ADMIN_API_KEY: "admin",
      EVENTS_API_KEY: "events",
      META_GRAPH_URL: "http://graph",
      FORM_SIGNING_SECRET_PARTNER: "whsec_partner",
      POWERTOOLS_LOG_LEVEL: "ERROR",
      UNRELATED: "x",
    },
    timeScale: 1 / 30,
  };

  it("gives a route its resources, the secrets it lists (development defaults when unset) and the common settings", () => {
    expect(localEnvironmentFor(routes["GET /leads/{id}"], context)).toEqual({
      LEADFLOW_RUNTIME: "local",
      AWS_REGION: "us-east-1",
      TABLE_NAME: "leadflow",
      ADMIN_API_KEY: "admin",
      POWERTOOLS_LOG_LEVEL: "ERROR",
    });
    const capture = localEnvironmentFor(routes["POST /webhooks/{source}"], context);
    expect(capture.FORM_SIGNING_SECRET_PARTNER).toBe("whsec_partner");
    expect(capture.META_APP_SECRET).toBe("local-meta-app-secret");
    expect(capture.ADMIN_API_KEY).toBeUndefined();
  });

  it("gives a consumer its queue, scaled retry delay, settings and the topic it publishes to", () => {
    const ingest = localEnvironmentFor(consumers.ingest, context);
    expect(ingest).toMatchObject({
      QUEUE_URL: "http://capture",
      DEAD_LETTER_QUEUE_URL: "http://capture-dlq",
      RETRY_BASE_SECONDS: "1",
      META_GRAPH_URL: "http://graph",
      DOMAIN_EVENTS_TOPIC_ARN: resources.domainEventTopicArn,
    });
    expect(ingest.FORM_SIGNING_SECRET_PARTNER).toBeUndefined();
    expect(ingest.UNRELATED).toBeUndefined();
    expect(localEnvironmentFor(schedules["refresh-temperatures"], context).META_GRAPH_URL).toBeUndefined();
  });
});
