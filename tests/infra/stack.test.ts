import { readFileSync } from "node:fs";
import {
  type ConsumerDefinition,
  commonSettings,
  consumedQueues,
  consumers,
  domainEventTopic,
  environmentFor,
  type FunctionDefinition,
  functionDefaults,
  type QueueName,
  queues,
  type ResourceLocations,
  routes,
  schedules,
  secretNames,
  subscriptions,
  type WorkflowDefinition,
  workflows,
} from "@leadflow/manifest";
import { tableActions, tableDefinition } from "@leadflow/store/table";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Aspects } from "aws-cdk-lib/core";
import { AwsSolutionsChecks } from "cdk-nag";
import { App } from "sst/constructs";
import { initProject } from "sst/project.js";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { tasksWithoutTimeout } from "../../packages/local/src/workflow-definition.ts";
import config from "../../sst.config.ts";
import { taskAnswerActions } from "../../stacks/functions.ts";
import { oldestMessageLimitSeconds } from "../../stacks/monitoring.ts";
import { DeploySettingError, operationsDefaults, operationsSettings, outboundSettings } from "../../stacks/settings.ts";

/**
 * Synthesizes the whole app offline the way `sst deploy` would (but with a fake account:
 * `sst build` needs AWS), then checks the CloudFormation templates against the manifest and runs
 * cdk-nag's AwsSolutions pack on them. Twice: with every operations setting set, and with none
 * (their defaults).
 *
 * The manifest here also holds the fixture workflow `test-workflow` and two functions that start
 * and answer it (tests/fixtures/workflows/manifest.ts), so the Workflows stack and the workflow
 * grants are checked whatever workflows the manifest itself declares.
 */
vi.mock("@leadflow/manifest", async (importOriginal) => {
  const manifest = await importOriginal<typeof import("@leadflow/manifest")>();
  const { fixtureClients, fixtureWorkflows } = await import("../fixtures/workflows/manifest.ts");
  return {
    ...manifest,
    workflows: { ...manifest.workflows, "test-workflow": fixtureWorkflows["test-workflow"] },
    schedules: { ...manifest.schedules, ...fixtureClients },
  };
});

const stage = "test";
const account = "123456789012";
const stackNames = ["Storage", "Secrets", "Alarms", "Messaging", "Workflows", "Api", "Schedules"] as const;
type StackName = (typeof stackNames)[number];

const workflowEntries = Object.entries(workflows) as [string, WorkflowDefinition<string>][];

/** Every deploy-time setting the manifest names, set as if in the deploying shell. */
const settingNames = [
  ...new Set(
    [
      ...Object.values(routes),
      ...Object.values(consumers),
      ...Object.values(schedules),
      ...workflowEntries.flatMap(([, workflow]) => Object.values(workflow.tasks)),
    ].flatMap(settingsOf),
  ),
];
const settingValue = (name: string) => `https://${name.toLowerCase()}.example.test`;

/** How the stage is operated (stacks/settings.ts): every one set, each away from its default. */
const operations = {
  ALARM_EMAIL: "alarms@example.test",
  LOG_RETENTION_DAYS: "90",
  API_THROTTLE_RATE: "25",
  API_THROTTLE_BURST: "50",
  SES_IDENTITY: "example.test",
  SMS_ORIGINATION_ARN: `arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef0123456789abcdef`,
  PUBLIC_URL: "https://leads.example.test",
} as const;

/** What a function may do beyond its table, queues, secrets and tracing: send email and SMS. */
const outboundActions = ["ses:SendEmail", "sms-voice:SendTextMessage"];

let appName: string;
/** With every setting set. */
let templates: Record<StackName, Template>;
/** With no operations setting set. */
let defaultTemplates: Record<StackName, Template>;
let nagErrors: string[];

beforeAll(async () => {
  await initProject({ stage });
  appName = config.config().name;
  for (const name of settingNames) vi.stubEnv(name, settingValue(name));
  for (const [name, value] of Object.entries(operations)) vi.stubEnv(name, value);
  const configured = await synthesize();
  for (const name of Object.keys(operations)) vi.stubEnv(name, undefined);
  const defaults = await synthesize();
  templates = configured.templates;
  defaultTemplates = defaults.templates;
  nagErrors = [...configured.nagErrors, ...defaults.nagErrors];
});

async function synthesize(): Promise<{ templates: Record<StackName, Template>; nagErrors: string[] }> {
  const { name, region } = config.config();
  const app = new App({ mode: "deploy", name, stage, region, account });
  await config.stacks(app);
  Aspects.of(app).add(new AwsSolutionsChecks());
  await app.finish();
  const assembly = app.synth();

  const byName = new Map(assembly.stacks.map((artifact) => [artifact.stackName, artifact]));
  const templates = Object.fromEntries(
    stackNames.map((stack) => {
      const artifact = byName.get(`${stage}-${name}-${stack}`);
      if (!artifact) throw new Error(`Stack ${stack} was not synthesized`);
      return [stack, Template.fromJSON(artifact.template)];
    }),
  ) as Record<StackName, Template>;
  const nagErrors = assembly.stacks
    .flatMap((artifact) => artifact.messages)
    .filter((message) => message.level === "error")
    .map((message) => `${message.id}: ${String(message.entry.data).trim()}`);
  return { templates, nagErrors };
}

afterAll(() => {
  vi.unstubAllEnvs();
});

/** Every function the manifest defines: routes, consumers, schedules, workflow tasks. */
const manifestFunctions: ManifestFunction[] = [
  ...Object.entries(routes).map(([routeKey, definition]) => ({
    name: routeKey,
    definition: definition as FunctionDefinition,
    deployed: () => routeFunction(routeKey),
  })),
  ...Object.entries(consumers).map(([name, definition]) => ({
    name: `consumer ${name}`,
    definition: definition as ConsumerDefinition,
    deployed: () => consumerFunction(name),
  })),
  ...Object.entries(schedules).map(([name, definition]) => ({
    name: `schedule ${name}`,
    definition: definition as FunctionDefinition<string>,
    deployed: () => scheduleFunction(name),
  })),
  ...workflowEntries.flatMap(([workflow, { tasks }]) =>
    Object.entries(tasks).map(([task, definition]) => ({
      name: `workflow ${workflow} task ${task}`,
      definition,
      deployed: () => taskFunction(definition.handler),
    })),
  ),
];

describe("Storage", () => {
  test("one table, keyed and indexed as tableDefinition says, on demand, with point-in-time recovery", () => {
    const tables = resources("Storage", "AWS::DynamoDB::Table");
    expect(tables).toHaveLength(1);
    const { partitionKey, sortKey, globalIndexes } = tableDefinition;
    const indexes = Object.entries(globalIndexes);
    const keyFields = [partitionKey, sortKey, ...indexes.flatMap(([, index]) => [index.partitionKey, index.sortKey])];
    const keySchema = (hash: string, range: string) => [
      { AttributeName: hash, KeyType: "HASH" },
      { AttributeName: range, KeyType: "RANGE" },
    ];

    const [, table] = tables[0] as [string, CfnResource];
    expect(table.Properties.KeySchema).toEqual(keySchema(partitionKey, sortKey));
    expect(sortBy(table.Properties.AttributeDefinitions, "AttributeName")).toEqual(
      keyFields.sort().map((field) => ({ AttributeName: field, AttributeType: "S" })),
    );
    expect(sortBy(table.Properties.GlobalSecondaryIndexes, "IndexName")).toEqual(
      indexes.map(([name, index]) => ({
        IndexName: name,
        KeySchema: keySchema(index.partitionKey, index.sortKey),
        Projection: { ProjectionType: "ALL" },
      })),
    );
    expect(table.Properties).toMatchObject({
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(stackNames.flatMap((stack) => resources(stack, "AWS::DynamoDB::Table"))).toHaveLength(1);
  });
});

describe("Secrets", () => {
  test("one Config.Secret per manifest secret", () => {
    const metadata = JSON.parse(templates.Secrets.toJSON().Outputs.SSTMetadata.Value) as {
      metadata: { type: string; data: { name: string } }[];
    };
    const secrets = metadata.metadata.filter((construct) => construct.type === "Secret");
    expect(secrets.map((secret) => secret.data.name).sort()).toEqual([...secretNames].sort());
  });
});

describe("Messaging", () => {
  const queueEntries = Object.entries(queues) as [QueueName, (typeof queues)[QueueName]][];
  const consumerEntries = Object.entries(consumers) as [string, ConsumerDefinition][];

  test.each(queueEntries)(
    "queue %s: manifest retention and visibility, redrive to its DLQ, SSE, SSL only",
    (name, queue) => {
      const main = queueResource(name);
      const deadLetter = queueResource(`${name}-dlq`);
      expect(main.properties).toMatchObject({
        MessageRetentionPeriod: queue.retentionSeconds,
        VisibilityTimeout: queue.visibilityTimeoutSeconds,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { "Fn::GetAtt": [deadLetter.logicalId, "Arn"] },
          maxReceiveCount: queue.maxReceiveCount,
        },
      });
      expect(deadLetter.properties).toMatchObject({
        MessageRetentionPeriod: queue.deadLetterRetentionSeconds,
        SqsManagedSseEnabled: true,
      });
      expect(deadLetter.properties.RedrivePolicy).toBeUndefined();
      // A redriven message keeps its original enqueue time: the DLQ must keep messages longer.
      expect(queue.deadLetterRetentionSeconds).toBeGreaterThan(queue.retentionSeconds);
      for (const { logicalId } of [main, deadLetter]) {
        templates.Messaging.hasResourceProperties("AWS::SQS::QueuePolicy", {
          Queues: [{ Ref: logicalId }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
            ]),
          },
        });
      }
    },
  );

  test.each(consumerEntries)(
    "consumer %s: event source on its queue, manifest batch size, partial batch failures",
    (name, consumer) => {
      const fn = consumerFunction(name);
      const mappings = resources("Messaging", "AWS::Lambda::EventSourceMapping").filter(
        ([, mapping]) => mapping.Properties.FunctionName?.Ref === fn.logicalId,
      );
      expect(mappings).toHaveLength(1);
      const [, mapping] = mappings[0] as [string, CfnResource];
      expect(mapping.Properties).toMatchObject({
        EventSourceArn: { "Fn::GetAtt": [queueResource(consumer.queue).logicalId, "Arn"] },
        BatchSize: consumer.batchSize,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
      });
    },
  );

  test.each(consumerEntries)(
    "consumer %s: its queue's visibility timeout is at least 6x its timeout",
    (name, consumer) => {
      const visibility = queueResource(consumer.queue).properties.VisibilityTimeout as number;
      const timeout = consumerFunction(name).properties.Timeout;
      expect(
        visibility,
        `AWS guidance: visibility timeout >= 6 x consumer timeout (${timeout} s); fix the manifest, the stack copies it`,
      ).toBeGreaterThanOrEqual(6 * timeout);
    },
  );
});

describe("Messaging: domain events", () => {
  const subscriptionEntries = Object.entries(subscriptions) as [QueueName, { eventTypes: readonly string[] }][];

  test("one topic for domain events, encrypted with SNS's AWS-managed key, TLS only", () => {
    // Alarms, domain events, SES events.
    expect(stackNames.flatMap((stack) => resources(stack, "AWS::SNS::Topic"))).toHaveLength(3);
    const topic = domainEventsTopic();
    // The alias's ARN: publishers need no KMS grant of their own (the managed key's policy lets them).
    expect(JSON.stringify(topic.properties.KmsMasterKeyId)).toMatch(/:kms:[a-z0-9-]+:\d+:alias\/aws\/sns"/);
    const policies = resources("Messaging", "AWS::SNS::TopicPolicy").filter(([, policy]) =>
      JSON.stringify(policy.Properties.Topics).includes(topic.logicalId),
    );
    expect(policies).toHaveLength(1);
    const [, policy] = policies[0] as [string, CfnResource];
    expect(policy.Properties.Topics).toEqual([{ Ref: topic.logicalId }]);
    const statements = policy.Properties.PolicyDocument.Statement as (Statement & Record<string, unknown>)[];
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: "Deny",
        Principal: "*",
        Action: "sns:Publish",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    ]);
    templates.Messaging.hasOutput("DomainEventTopicArn", { Value: { Ref: topic.logicalId } });
  });

  test.each(subscriptionEntries)(
    "queue %s: subscribed with raw delivery, a filter policy on type, and its DLQ for what cannot be delivered",
    (name, subscription) => {
      const found = resources("Messaging", "AWS::SNS::Subscription").filter(
        ([, resource]) => JSON.stringify(resource.Properties.Endpoint) === JSON.stringify(queueArn(name)),
      );
      expect(found).toHaveLength(1);
      expect((found[0] as [string, CfnResource])[1].Properties).toEqual({
        Protocol: "sqs",
        TopicArn: { Ref: domainEventsTopic().logicalId },
        Endpoint: queueArn(name),
        RawMessageDelivery: true,
        FilterPolicy: { type: [...subscription.eventTypes] },
        RedrivePolicy: { deadLetterTargetArn: queueArn(`${name}-dlq`) },
      });
      for (const target of [name, `${name}-dlq`]) {
        templates.Messaging.hasResourceProperties("AWS::SQS::QueuePolicy", {
          Queues: [{ Ref: queueResource(target).logicalId }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              {
                Effect: "Allow",
                Principal: { Service: "sns.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: queueArn(target),
                Condition: { ArnEquals: { "aws:SourceArn": { Ref: domainEventsTopic().logicalId } } },
              },
            ]),
          },
        });
      }
    },
  );

  test("the topic has the manifest's subscriptions and no other", () => {
    const endpoints = resources("Messaging", "AWS::SNS::Subscription")
      .filter(([, resource]) => resource.Properties.TopicArn?.Ref === domainEventsTopic().logicalId)
      .map(([, resource]) => JSON.stringify(resource.Properties.Endpoint));
    expect(endpoints.sort()).toEqual(subscriptionEntries.map(([name]) => JSON.stringify(queueArn(name))).sort());
  });

  test("the functions that publish domain events are those the manifest says, and only they can", () => {
    const publishers = manifestFunctions.filter(({ deployed }) =>
      statementsOf(deployed()).some((statement) => actionsOf(statement).includes("sns:Publish")),
    );
    expect(publishers.map(({ name }) => name).sort()).toEqual(
      manifestFunctions
        .filter(({ definition }) => definition.publishesEvents)
        .map(({ name }) => name)
        .sort(),
    );
    expect(publishers.length).toBeGreaterThan(0);
  });
});

describe("Messaging: SES events (deliverability)", () => {
  test("a configuration set named for the stage publishes bounces, complaints, opens and clicks to the SES events topic", () => {
    expect(configurationSet().properties).toMatchObject({ Name: configurationSetName() });
    const destinations = resources("Messaging", "AWS::SES::ConfigurationSetEventDestination");
    expect(destinations).toHaveLength(1);
    const [, destination] = destinations[0] as [string, CfnResource];
    expect(destination.Properties.ConfigurationSetName).toEqual({ Ref: configurationSet().logicalId });
    expect(destination.Properties.EventDestination).toMatchObject({
      Enabled: true,
      SnsDestination: { TopicARN: { Ref: sesEventsTopic().logicalId } },
    });
    expect([...destination.Properties.EventDestination.MatchingEventTypes].sort()).toEqual(
      ["bounce", "click", "complaint", "open"].sort(),
    );
  });

  test("the topic is encrypted with a rotating key of its own that SES may use, and only this set may publish to it, over TLS", () => {
    const topic = sesEventsTopic();
    const keyId = topic.properties.KmsMasterKeyId["Fn::GetAtt"][0] as string;
    const key = templates.Messaging.toJSON().Resources[keyId] as CfnResource;
    expect(key.Type).toBe("AWS::KMS::Key");
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.Properties.KeyPolicy.Statement).toContainEqual({
      Effect: "Allow",
      Principal: { Service: "ses.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": account } },
    });
    const policies = resources("Messaging", "AWS::SNS::TopicPolicy").filter(([, policy]) =>
      JSON.stringify(policy.Properties.Topics).includes(topic.logicalId),
    );
    expect(policies).toHaveLength(1);
    const statements = (policies[0] as [string, CfnResource])[1].Properties.PolicyDocument.Statement as (Statement &
      Record<string, unknown>)[];
    const allowed = statements.filter((statement) => statement.Effect === "Allow");
    expect(allowed).toEqual([
      expect.objectContaining({ Principal: { Service: "ses.amazonaws.com" }, Action: "sns:Publish" }),
    ]);
    expect(JSON.stringify(allowed[0]?.Condition)).toContain(
      `:configuration-set/",${JSON.stringify({ Ref: configurationSet().logicalId })}`,
    );
    expect(JSON.stringify(allowed[0]?.Condition)).toContain(account);
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    );
  });

  test("the deliverability queue is its only subscriber: raw delivery, its DLQ for what cannot be delivered", () => {
    const found = resources("Messaging", "AWS::SNS::Subscription").filter(
      ([, resource]) => resource.Properties.TopicArn?.Ref === sesEventsTopic().logicalId,
    );
    expect(found.map(([, resource]) => resource.Properties)).toEqual([
      {
        Protocol: "sqs",
        TopicArn: { Ref: sesEventsTopic().logicalId },
        Endpoint: queueArn("deliverability"),
        RawMessageDelivery: true,
        RedrivePolicy: { deadLetterTargetArn: queueArn("deliverability-dlq") },
      },
    ]);
    for (const target of ["deliverability", "deliverability-dlq"]) {
      templates.Messaging.hasResourceProperties("AWS::SQS::QueuePolicy", {
        Queues: [{ Ref: queueResource(target).logicalId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Effect: "Allow",
              Principal: { Service: "sns.amazonaws.com" },
              Action: "sqs:SendMessage",
              Resource: queueArn(target),
              Condition: { ArnEquals: { "aws:SourceArn": { Ref: sesEventsTopic().logicalId } } },
            },
          ]),
        },
      });
    }
  });

  test("the outbound consumer sends with the set (SES_CONFIGURATION_SET), even without SES_IDENTITY; no other function is given it", () => {
    for (const synthesized of [templates, defaultTemplates]) {
      const send = consumerFunction("send");
      const variables = (synthesized.Messaging.toJSON().Resources[send.logicalId] as CfnResource).Properties.Environment
        .Variables;
      expect(variables.SES_CONFIGURATION_SET).toEqual({ Ref: configurationSet().logicalId });
    }
    const given = manifestFunctions.filter(
      ({ deployed }) => "SES_CONFIGURATION_SET" in deployed().properties.Environment.Variables,
    );
    expect(given.map(({ name }) => name)).toEqual(["consumer send"]);
  });

  test("the deliverability consumer reads its queue and may only send to the events queue (and its DLQ) besides the table", () => {
    const statements = statementsOf(consumerFunction("deliverability"));
    expect(queuesReachedBy(statements, "sqs:SendMessage").sort()).toEqual(["deliverability-dlq", "events"]);
    expect(outboundGrantsOf(statements)).toEqual([]);
  });

  test("POST /webhooks/sms-inbound takes its topic from SMS_INBOUND_TOPIC_ARN and may send to the outbound and events queues only", () => {
    const fn = routeFunction("POST /webhooks/sms-inbound");
    expect(fn.properties.Environment.Variables.SMS_INBOUND_TOPIC_ARN).toBe(settingValue("SMS_INBOUND_TOPIC_ARN"));
    expect(queuesReachedBy(statementsOf(fn), "sqs:SendMessage").sort()).toEqual(["events", "outbound"]);
    expect(outboundGrantsOf(statementsOf(fn))).toEqual([]);
  });
});

describe("outbound messages", () => {
  test("the outbound queue has its consumer, and only it may send email or SMS", () => {
    expect(queues.outbound).toBeDefined();
    expect(consumers.send).toMatchObject({ queue: "outbound", sendsVia: ["email", "sms"] });
    const senders = manifestFunctions.filter(({ definition }) => (definition.sendsVia ?? []).length > 0);
    expect(senders.map(({ name }) => name)).toEqual(["consumer send"]);
  });

  test("the outbound consumer may send email only as SES_IDENTITY and SMS only from SMS_ORIGINATION_ARN", () => {
    const statements = statementsIn(templates, consumerFunction("send"));
    const arns = (resource: unknown) => [resource].flat().map(arnText);
    const ses = `arn:aws:ses:${config.config().region}:${account}`;
    expect(outboundGrantsOf(statements).map(({ action, resource }) => [action, arns(resource)])).toEqual([
      // SES authorizes a send with a configuration set on the set as well as the identity.
      [
        "ses:SendEmail",
        [
          `${ses}:identity/${operations.SES_IDENTITY}`,
          `${ses}:configuration-set/${JSON.stringify({ Ref: configurationSet().logicalId })}`,
        ],
      ],
      ["sms-voice:SendTextMessage", [operations.SMS_ORIGINATION_ARN]],
    ]);
    // Each in a statement of its own: the SES identity never covers SMS and the reverse.
    for (const statement of statements.filter((candidate) => outboundGrantsOf([candidate]).length > 0)) {
      expect(actionsOf(statement)).toHaveLength(1);
    }
  });

  test("without SES_IDENTITY and SMS_ORIGINATION_ARN the outbound consumer gets no email or SMS grant at all", () => {
    expect(outboundGrantsOf(statementsIn(defaultTemplates, consumerFunction("send")))).toEqual([]);
  });
});

describe("Api", () => {
  test("the HTTP API has exactly the manifest routes, each integrated (payload 2.0) with its handler", () => {
    const routeKeys = resources("Api", "AWS::ApiGatewayV2::Route").map(([, route]) => route.Properties.RouteKey);
    expect(routeKeys.sort()).toEqual(Object.keys(routes).sort());
    for (const [routeKey, definition] of Object.entries(routes)) {
      expect(routeFunction(routeKey).properties.Handler).toBe(definition.handler);
    }
    templates.Api.hasResourceProperties("AWS::ApiGatewayV2::Api", { ProtocolType: "HTTP" });
    templates.Api.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  test("the $default stage throttles every route at API_THROTTLE_RATE / API_THROTTLE_BURST, or the documented defaults", () => {
    const throttling = (stages: Record<StackName, Template>) =>
      resourcesIn(stages, "Api", "AWS::ApiGatewayV2::Stage").map(([, stage]) => ({
        name: stage.Properties.StageName,
        ...stage.Properties.DefaultRouteSettings,
      }));
    expect(throttling(templates)).toEqual([{ name: "$default", ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 }]);
    expect(throttling(defaultTemplates)).toEqual([
      {
        name: "$default",
        ThrottlingRateLimit: operationsDefaults.API_THROTTLE_RATE,
        ThrottlingBurstLimit: operationsDefaults.API_THROTTLE_BURST,
      },
    ]);
    // Route-level settings would override the stage's default for that route.
    expect(resources("Api", "AWS::ApiGatewayV2::Stage")[0]?.[1].Properties.RouteSettings).toBeUndefined();
  });

  test("an alarm on any 5xx answer of the API (handlers answer 500 themselves, which Lambda does not count as an error)", () => {
    const [apiId] = resources("Api", "AWS::ApiGatewayV2::Api").map(([logicalId]) => logicalId);
    const alarms = alarmsOn(templates, "Api", { Name: "ApiId", Value: { Ref: apiId } });
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({
      Namespace: "AWS/ApiGateway",
      MetricName: "5xx",
      Statistic: "Sum",
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 0,
    });
  });

  test("an SSM parameter holds PUBLIC_URL for functions of every stack: the deploy's PUBLIC_URL, else the API's URL", () => {
    const parameter = (synthesized: Record<StackName, Template>) => {
      // SST keeps parameters of its own (e.g. the API's URL for `sst bind`): ours is found by name.
      const found = stackNames
        .flatMap((stack) => resourcesIn(synthesized, stack, "AWS::SSM::Parameter"))
        .filter(([, candidate]) => candidate.Properties.Name === publicUrlParameter());
      expect(found).toHaveLength(1);
      return (found[0] as [string, CfnResource])[1].Properties;
    };
    expect(parameter(templates)).toMatchObject({
      Name: publicUrlParameter(),
      Type: "String",
      Value: operations.PUBLIC_URL,
    });
    expect(parameter(defaultTemplates)).toMatchObject({
      Name: publicUrlParameter(),
      Value: { "Fn::GetAtt": [expect.any(String), "ApiEndpoint"] },
    });
  });

  test("outputs the API URL", () => {
    templates.Api.hasOutput("ApiUrl", { Value: { "Fn::GetAtt": [Match.anyValue(), "ApiEndpoint"] } });
  });
});

describe("Schedules", () => {
  test.each(Object.entries(schedules))(
    "schedule %s: an EventBridge rule on the manifest schedule, running its function",
    (name, schedule) => {
      const rules = resources("Schedules", "AWS::Events::Rule").filter(
        ([, rule]) => rule.Properties.ScheduleExpression === schedule.schedule,
      );
      expect(rules).toHaveLength(1);
      const [, rule] = rules[0] as [string, CfnResource];
      expect(rule.Properties.State).toBe("ENABLED");
      expect(JSON.stringify(rule.Properties.Targets)).toContain(scheduleFunction(name).logicalId);
    },
  );
});

describe("functions", () => {
  test("one function per manifest route, consumer and schedule, besides SST's own custom-resource handler per stack", () => {
    const all = stackNames.flatMap((stack) => resources(stack, "AWS::Lambda::Function"));
    const sstOwn = all.filter(([logicalId]) => logicalId.startsWith("CustomResourceHandler"));
    expect(sstOwn).toHaveLength(stackNames.length);
    expect(all.length - sstOwn.length).toBe(manifestFunctions.length);
  });

  test.each(manifestFunctions)(
    "$name: nodejs24.x on arm64, with the manifest's timeout and memory",
    ({ definition, deployed }) => {
      expect(deployed().properties).toMatchObject({
        Runtime: "nodejs24.x",
        Architectures: ["arm64"],
        Timeout: definition.timeoutSeconds ?? functionDefaults.timeoutSeconds,
        MemorySize: definition.memoryMB ?? functionDefaults.memoryMB,
      });
    },
  );

  test.each(manifestFunctions)(
    "$name: the environment environmentFor builds, plus its deploy-time settings",
    ({ definition, deployed }) => {
      const variables = deployed().properties.Environment.Variables;
      const ours = Object.keys(variables).filter((key) => !sstVariables.has(key) && !key.startsWith(secretVariable));
      // Locations stand in as logical ids: a variable must reference the resource it names.
      const expected = { ...environmentFor(definition, locationsAsLogicalIds()) };
      for (const name of settingsOf(definition)) expected[name] = stackSettings[name]?.() ?? settingValue(name);
      expect(ours.sort()).toEqual(Object.keys(expected).sort());
      for (const [key, value] of Object.entries(expected)) {
        const actual = variables[key];
        if (typeof actual === "string") expect(actual, key).toBe(value);
        else expect(JSON.stringify(actual), key).toContain(value);
      }
    },
  );

  test.each(manifestFunctions)(
    "$name: may touch only the table, queues, secrets and workflows the manifest lists",
    ({ definition, deployed }) => {
      const fn = deployed();
      const statements = statementsOf(fn);
      const actions = statements.flatMap(actionsOf);

      expect(statements.every((statement) => statement.Effect === "Allow")).toBe(true);
      expect(actions.filter((action) => action === "*" || action.endsWith(":*"))).toEqual([]);
      expect(
        actions.filter(
          (action) =>
            !/^(xray|dynamodb|sqs|ssm|states):/.test(action) &&
            action !== "sns:Publish" &&
            !outboundActions.includes(action),
        ),
      ).toEqual([]);
      for (const statement of statements.filter((statement) => [statement.Resource].flat().includes("*"))) {
        expect(actionsOf(statement).every((action) => action.startsWith("xray:"))).toBe(true);
      }
      expect(roleOf(fn).Properties.ManagedPolicyArns).toEqual([
        {
          "Fn::Join": [
            "",
            ["arn:", { Ref: "AWS::Partition" }, ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
          ],
        },
      ]);
      expect(roleOf(fn).Properties.Policies).toBeUndefined();

      const dynamodb = statements.filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith("dynamodb:")),
      );
      const dynamodbActions = dynamodb.flatMap(actionsOf);
      if (!definition.table) expect(dynamodbActions).toEqual([]);
      if (definition.table) {
        expect(dynamodbActions.sort()).toEqual([...tableActions[definition.table]].sort());
        for (const statement of dynamodb) expect(JSON.stringify(statement.Resource)).toContain(tableLogicalId());
      }

      const ownQueue = "queue" in definition ? (definition as ConsumerDefinition).queue : undefined;
      const sendsTo = [...(definition.sendsTo ?? []), ...(ownQueue ? [`${ownQueue}-dlq`] : [])];
      expect(queuesReachedBy(statements, "sqs:SendMessage").sort()).toEqual(sendsTo.sort());
      expect(queuesReachedBy(statements, "sqs:ReceiveMessage")).toEqual(ownQueue ? [ownQueue] : []);

      const publishing = statements.filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith("sns:")),
      );
      if (!definition.publishesEvents) expect(publishing).toEqual([]);
      if (definition.publishesEvents) {
        expect(publishing).toHaveLength(1);
        expect(actionsOf(publishing[0] as Statement)).toEqual(["sns:Publish"]);
        expect(JSON.stringify(publishing[0]?.Resource)).toContain(domainEventsTopic().logicalId);
      }
      const starts = [...(definition.startsWorkflows ?? [])].sort();
      const answers = [...(definition.answersWorkflows ?? [])].sort();
      expect(workflowsReachedBy(statements, "states:StartExecution")).toEqual(starts);
      for (const action of taskAnswerActions) expect(workflowsReachedBy(statements, action), action).toEqual(answers);
      expect(new Set(actions.filter((action) => action.startsWith("states:")))).toEqual(
        new Set([
          ...(starts.length > 0 ? ["states:StartExecution"] : []),
          ...(answers.length > 0 ? taskAnswerActions : []),
        ]),
      );

      const secrets = [...(definition.secrets ?? [])].sort();
      expect(secretsReadBy(statements)).toEqual(secrets);
      expect(outboundGrantsOf(statements)).toEqual(expectedOutboundGrants(definition));
      const publicUrlReads = statements.filter((statement) => actionsOf(statement).includes("ssm:GetParameter"));
      expect(publicUrlReads.map((statement) => statement.Resource)).toEqual(
        definition.publicUrl ? [expect.objectContaining({ "Fn::Join": expect.anything() })] : [],
      );
      for (const read of publicUrlReads) {
        expect(actionsOf(read)).toEqual(["ssm:GetParameter"]);
        expect(JSON.stringify(read.Resource)).toContain(`:parameter${publicUrlParameter()}`);
      }
      const variables = Object.keys(fn.properties.Environment.Variables);
      const boundSecrets = variables.filter((key) => key.startsWith(secretVariable));
      expect(boundSecrets.map((key) => key.slice(secretVariable.length)).sort()).toEqual(secrets);
    },
  );

  test.each(manifestFunctions)("$name: alarms on Errors > 0 and on Throttles > 0", ({ deployed }) => {
    const fn = deployed();
    const alarms = alarmsOn(templates, fn.stack, { Name: "FunctionName", Value: { Ref: fn.logicalId } });
    expect(alarms.map((alarm) => alarm.MetricName).sort()).toEqual(["Errors", "Throttles"]);
    for (const alarm of alarms) {
      expect(alarm, alarm.MetricName).toMatchObject({
        Namespace: "AWS/Lambda",
        Statistic: "Sum",
        ComparisonOperator: "GreaterThanThreshold",
        Threshold: 0,
      });
    }
  });

  test.each(manifestFunctions)(
    "$name: logs to a log group of its own, kept LOG_RETENTION_DAYS days and retained on removal",
    ({ deployed }) => {
      const fn = deployed();
      const group = logGroupOf(templates, fn);
      expect(group).toMatchObject({
        Properties: { RetentionInDays: Number(operations.LOG_RETENTION_DAYS) },
        DeletionPolicy: "Retain",
      });
      // CloudFormation names it: a retained group with a fixed name would block the next deploy of the stage.
      expect(group.Properties.LogGroupName).toBeUndefined();
      const sharing = manifestFunctions.filter((other) => {
        const otherFn = other.deployed();
        return otherFn.stack === fn.stack && logGroupIdOf(otherFn) === logGroupIdOf(fn);
      });
      expect(sharing).toHaveLength(1);
    },
  );

  test("every function, SST's own included, keeps its logs 30 days without LOG_RETENTION_DAYS, and no log-retention custom resource is needed", () => {
    for (const [synthesized, days] of [
      [templates, Number(operations.LOG_RETENTION_DAYS)],
      [defaultTemplates, operationsDefaults.LOG_RETENTION_DAYS],
    ] as const) {
      const functions = stackNames.flatMap((stack) =>
        resourcesIn(synthesized, stack, "AWS::Lambda::Function").map(([logicalId, fn]) => ({
          stack,
          logicalId,
          properties: fn.Properties,
        })),
      );
      expect(functions).toHaveLength(manifestFunctions.length + stackNames.length);
      for (const fn of functions) {
        expect(logGroupOf(synthesized, fn).Properties.RetentionInDays, fn.logicalId).toBe(days);
      }
      for (const stack of stackNames) expect(resourcesIn(synthesized, stack, "Custom::LogRetention")).toEqual([]);
    }
  });

  test("POST /webhooks/{source} can send to the capture queue and has no DynamoDB access", () => {
    const statements = statementsOf(routeFunction("POST /webhooks/{source}"));
    expect(queuesReachedBy(statements, "sqs:SendMessage")).toEqual(["capture"]);
    expect(statements.flatMap(actionsOf).filter((action) => action.startsWith("dynamodb:"))).toEqual([]);
  });

  test("the read routes have no DynamoDB write action", () => {
    const readRoutes = Object.entries(routes).filter(([, route]) => "table" in route && route.table === "read");
    expect(readRoutes.length).toBeGreaterThan(0);
    for (const [routeKey] of readRoutes) {
      const writes = statementsOf(routeFunction(routeKey))
        .flatMap(actionsOf)
        .filter((action) => dynamodbWrites.has(action));
      expect(writes, routeKey).toEqual([]);
    }
  });
});

describe("Workflows", () => {
  /** Workflows that wait for a person: a `.waitForTaskToken` Task, with a timeout. */
  const callbackWorkflows = new Set(["test-workflow", "speed-to-lead"]);
  /** The actions CDK gives a state machine's role for logs (log delivery) and X-Ray: none takes a resource. */
  const logAndTraceActions = new Set([
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
  ]);

  test("the fixture workflow is deployed beside the manifest's own", () => {
    expect(workflowEntries.map(([name]) => name)).toContain("test-workflow");
    expect(resources("Workflows", "AWS::StepFunctions::StateMachine")).toHaveLength(workflowEntries.length);
  });

  test.each(workflowEntries)(
    "%s: a Standard state machine named for the stage, its ASL as written, each task placeholder its function's ARN",
    (name, workflow) => {
      const machine = stateMachine(name);
      expect(machine.properties).toMatchObject({
        StateMachineName: stateMachineName(name),
        StateMachineType: "STANDARD",
      });
      expect(JSON.parse(machine.properties.DefinitionString)).toEqual(
        JSON.parse(readFileSync(workflow.definition, "utf8")),
      );
      const substitutions = Object.entries(workflow.tasks).map(([task, definition]) => [
        task,
        { "Fn::GetAtt": [taskFunction(definition.handler).logicalId, "Arn"] },
      ]);
      expect(machine.properties.DefinitionSubstitutions).toEqual(Object.fromEntries(substitutions));
    },
  );

  test.each(workflowEntries)("%s: every Task of the deployed definition has a timeout", (name) => {
    const definition = stateMachine(name).properties.DefinitionString as string;
    expect(tasksWithoutTimeout(definition)).toEqual([]);
    if (!callbackWorkflows.has(name)) return;
    const waiting = taskStatesOf(JSON.parse(definition)).filter((state) =>
      String(state.Resource).endsWith(".waitForTaskToken"),
    );
    expect(waiting.length).toBeGreaterThan(0);
    for (const state of waiting) expect(state.TimeoutSeconds ?? state.TimeoutSecondsPath).toBeDefined();
  });

  test.each(workflowEntries)(
    "%s: its role may invoke exactly its task functions, and write its logs and traces: nothing else",
    (name, workflow) => {
      const roleId = stateMachine(name).properties.RoleArn["Fn::GetAtt"][0] as string;
      const role = templates.Workflows.toJSON().Resources[roleId] as CfnResource;
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "states.amazonaws.com" } },
      ]);
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.Policies).toBeUndefined();

      const statements = resources("Workflows", "AWS::IAM::Policy")
        .filter(([, policy]) => policy.Properties.Roles.some((attached: { Ref?: string }) => attached.Ref === roleId))
        .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[]);
      expect(statements.every((statement) => statement.Effect === "Allow")).toBe(true);
      const invoking = statements.filter((statement) => actionsOf(statement).includes("lambda:InvokeFunction"));
      expect(invoking.flatMap(actionsOf)).toEqual(["lambda:InvokeFunction"]);
      const taskArns = Object.values(workflow.tasks).map((definition) => ({
        "Fn::GetAtt": [taskFunction(definition.handler).logicalId, "Arn"],
      }));
      expect(invoking.flatMap((statement) => [statement.Resource].flat())).toEqual(taskArns);
      for (const statement of statements.filter((statement) => !invoking.includes(statement))) {
        expect(statement.Resource).toBe("*");
        for (const action of actionsOf(statement)) expect(logAndTraceActions.has(action), action).toBe(true);
      }
    },
  );

  test.each(workflowEntries)(
    "%s: logs every transition, without execution data, to a log group of its own kept LOG_RETENTION_DAYS, and traces with X-Ray",
    (name) => {
      const { properties } = stateMachine(name);
      expect(properties.LoggingConfiguration).toMatchObject({ Level: "ALL", IncludeExecutionData: false });
      const groupId =
        properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn["Fn::GetAtt"][0];
      const group = templates.Workflows.toJSON().Resources[groupId];
      expect(group).toMatchObject({
        Type: "AWS::Logs::LogGroup",
        Properties: { RetentionInDays: Number(operations.LOG_RETENTION_DAYS) },
        DeletionPolicy: "Retain",
      });
      expect(properties.TracingConfiguration).toEqual({ Enabled: true });
    },
  );

  test.each(workflowEntries)("%s: alarms on failed and on timed-out executions", (name) => {
    const alarms = alarmsOn(templates, "Workflows", {
      Name: "StateMachineArn",
      Value: { Ref: stateMachine(name).logicalId },
    });
    expect(alarms.map((alarm) => alarm.MetricName).sort()).toEqual(["ExecutionsFailed", "ExecutionsTimedOut"]);
    for (const alarm of alarms) {
      expect(alarm, alarm.MetricName).toMatchObject({
        Namespace: "AWS/States",
        Statistic: "Sum",
        ComparisonOperator: "GreaterThanThreshold",
        Threshold: 0,
      });
    }
  });
});

describe("Alarms", () => {
  const queueNames = Object.keys(queues) as QueueName[];

  test("one SNS topic, encrypted with a rotating KMS key that CloudWatch may use", () => {
    expect(resources("Alarms", "AWS::SNS::Topic")).toHaveLength(1);
    const topic = alarmTopic();
    expect(topic.properties.TopicName).toBe(`${stage}-${appName}-alarms`);
    const keys = resources("Alarms", "AWS::KMS::Key");
    expect(keys).toHaveLength(1);
    const [keyId, key] = keys[0] as [string, CfnResource];
    expect(topic.properties.KmsMasterKeyId).toEqual({ "Fn::GetAtt": [keyId, "Arn"] });
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.Properties.KeyPolicy.Statement).toContainEqual({
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
    });
  });

  test("the topic takes only TLS, and only this stage's alarms may publish to it", () => {
    const topic = alarmTopic();
    const policies = resources("Alarms", "AWS::SNS::TopicPolicy");
    expect(policies).toHaveLength(1);
    const [, policy] = policies[0] as [string, CfnResource];
    expect(policy.Properties.Topics).toEqual([{ Ref: topic.logicalId }]);
    const statements = policy.Properties.PolicyDocument.Statement as (Statement & Record<string, unknown>)[];
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: "Deny",
        Principal: "*",
        Action: "sns:Publish",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    );
    const allowed = statements.filter((statement) => statement.Effect === "Allow");
    expect(allowed).toEqual([
      expect.objectContaining({
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: { Ref: topic.logicalId },
        Condition: { ArnLike: { "aws:SourceArn": expect.anything() }, StringEquals: { "aws:SourceAccount": account } },
      }),
    ]);
    const { region } = config.config();
    expect(JSON.stringify(allowed[0]?.Condition)).toContain(`:cloudwatch:${region}:${account}:alarm:${alarmPrefix()}*`);
  });

  test("an email subscription when ALARM_EMAIL is set, none otherwise", () => {
    const emailSubscriptions = (synthesized: Record<StackName, Template>) =>
      stackNames
        .flatMap((stack) => resourcesIn(synthesized, stack, "AWS::SNS::Subscription"))
        .filter(([, subscription]) => subscription.Properties.Protocol !== "sqs");
    const found = emailSubscriptions(templates);
    expect(found).toHaveLength(1);
    expect((found[0] as [string, CfnResource])[1].Properties).toMatchObject({
      Protocol: "email",
      Endpoint: operations.ALARM_EMAIL,
      TopicArn: { Ref: alarmTopic().logicalId },
    });
    expect(emailSubscriptions(defaultTemplates)).toEqual([]);
  });

  test("one alarm per DLQ, per consumed queue, two per manifest function and per workflow, and one on the API's 5xx: nothing more", () => {
    const expected =
      queueNames.length + consumedQueues.length + 2 * manifestFunctions.length + 1 + 2 * workflowEntries.length;
    expect(allAlarms(templates)).toHaveLength(expected);
    expect(allAlarms(defaultTemplates)).toHaveLength(expected);
  });

  test("every alarm notifies the topic and nothing else, treats missing data as fine, and is named for the stage", () => {
    const topicImport = { "Fn::ImportValue": exportOf(alarmTopic().logicalId) };
    for (const { stack, logicalId, properties } of allAlarms(templates)) {
      const where = `${stack}/${logicalId}`;
      expect(properties.AlarmActions, where).toEqual([topicImport]);
      expect(properties.OKActions, where).toBeUndefined();
      expect(properties.InsufficientDataActions, where).toBeUndefined();
      expect(properties, where).toMatchObject({ TreatMissingData: "notBreaching", EvaluationPeriods: 1 });
      // The topic policy lets only alarms named so publish.
      expect(properties.AlarmName.startsWith(alarmPrefix()), where).toBe(true);
    }
  });

  test.each(queueNames)("queue %s: its DLQ alarms on a single visible message", (name) => {
    const deadLetter = queueResource(`${name}-dlq`);
    const alarms = alarmsOn(templates, "Messaging", {
      Name: "QueueName",
      Value: { "Fn::GetAtt": [deadLetter.logicalId, "QueueName"] },
    });
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Statistic: "Maximum",
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      Threshold: 1,
    });
  });

  test("the queues a consumer reads (capture, events) alarm when their oldest message is over 15 minutes old; the others do not", () => {
    const watched = queueNames.filter((name) => {
      const alarms = alarmsOn(templates, "Messaging", {
        Name: "QueueName",
        Value: { "Fn::GetAtt": [queueResource(name).logicalId, "QueueName"] },
      });
      if (alarms.length === 0) return false;
      expect(alarms, name).toHaveLength(1);
      expect(alarms[0], name).toMatchObject({
        Namespace: "AWS/SQS",
        MetricName: "ApproximateAgeOfOldestMessage",
        Statistic: "Maximum",
        ComparisonOperator: "GreaterThanThreshold",
        Threshold: 900,
      });
      return true;
    });
    expect(oldestMessageLimitSeconds).toBe(15 * 60);
    expect(watched.sort()).toEqual([...consumedQueues].sort());
    expect(watched).toEqual(expect.arrayContaining(["capture", "events"]));
  });
});

describe("deploy-time settings", () => {
  test("an unusable setting stops the deploy with a DeploySettingError that names it, never echoing its value", () => {
    const attempt = () =>
      operationsSettings({ ALARM_EMAIL: "ops-at-example", LOG_RETENTION_DAYS: "31", API_THROTTLE_BURST: "0" });
    expect(attempt).toThrow(DeploySettingError);
    expect(attempt).toThrow(/ALARM_EMAIL.*LOG_RETENTION_DAYS.*API_THROTTLE_BURST/);
    expect(attempt).not.toThrow(/ops-at-example/);
  });

  test("outbound settings: a wildcard identity, an ARN of something else or a URL that is not http(s) stop the deploy", () => {
    const attempt = () =>
      outboundSettings({
        SES_IDENTITY: "*",
        SMS_ORIGINATION_ARN: "arn:aws:iam::123456789012:role/anything",
        PUBLIC_URL: "ftp://secret-host.example",
      });
    expect(attempt).toThrow(DeploySettingError);
    expect(attempt).toThrow(/SES_IDENTITY.*SMS_ORIGINATION_ARN.*PUBLIC_URL/);
    expect(attempt).not.toThrow(/secret-host/);
    expect(outboundSettings({ SES_IDENTITY: "", PUBLIC_URL: "https://leads.example.test/" })).toEqual({
      sesIdentity: undefined,
      smsOriginationArn: undefined,
      publicUrl: "https://leads.example.test",
    });
  });

  test("unset or empty settings take their defaults", () => {
    const defaults = {
      alarmEmail: undefined,
      logRetentionDays: operationsDefaults.LOG_RETENTION_DAYS,
      apiThrottle: { rate: operationsDefaults.API_THROTTLE_RATE, burst: operationsDefaults.API_THROTTLE_BURST },
    };
    expect(operationsSettings({})).toEqual(defaults);
    expect(operationsSettings({ ALARM_EMAIL: "", LOG_RETENTION_DAYS: "", API_THROTTLE_RATE: "" })).toEqual(defaults);
  });
});

describe("cdk-nag AwsSolutions", () => {
  test("no unsuppressed error", () => {
    expect(nagErrors).toEqual([]);
  });

  test("suppressions are per resource, each with its reason; IAM ones name the exact finding", () => {
    const suppressions = stackNames.flatMap((stack) => {
      expect(templates[stack].toJSON().Metadata?.cdk_nag, `no stack-wide suppression in ${stack}`).toBeUndefined();
      return Object.values(templates[stack].toJSON().Resources as Record<string, CfnResource>).flatMap(
        (resource) => resource.Metadata?.cdk_nag?.rules_to_suppress ?? [],
      );
    });
    expect(suppressions.length).toBeGreaterThan(0);
    for (const suppression of suppressions) {
      expect(suppression.reason.length, suppression.id).toBeGreaterThan(40);
      if (suppression.id.startsWith("AwsSolutions-IAM"))
        expect(suppression.applies_to?.length, suppression.id).toBeGreaterThan(0);
    }
  });
});

// --- reading the templates ------------------------------------------------------------------

interface CfnResource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON
  Properties: Record<string, any>;
  Metadata?: { cdk_nag?: { rules_to_suppress?: { id: string; reason: string; applies_to?: unknown[] }[] } };
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

interface DeployedFunction {
  stack: StackName;
  logicalId: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON
  properties: Record<string, any>;
}

interface ManifestFunction {
  name: string;
  definition: FunctionDefinition<string> | ConsumerDefinition;
  deployed: () => DeployedFunction;
}

const sstVariables = new Set(["AWS_NODEJS_CONNECTION_REUSE_ENABLED", "SST_APP", "SST_STAGE", "SST_SSM_PREFIX"]);
const secretVariable = "SST_Secret_value_";
const dynamodbWrites = new Set([
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
]);

function settingsOf(definition: FunctionDefinition<string>): readonly string[] {
  return [...commonSettings, ...(definition.settings ?? [])];
}

function resources(stack: StackName, type: string): [string, CfnResource][] {
  return resourcesIn(templates, stack, type);
}

function resourcesIn(
  synthesized: Record<StackName, Template>,
  stack: StackName,
  type: string,
): [string, CfnResource][] {
  return Object.entries(synthesized[stack].findResources(type)) as [string, CfnResource][];
}

/** What every alarm name starts with: `<stage>-<app>-`. */
function alarmPrefix(): string {
  return `${stage}-${appName}-`;
}

function alarmTopic(): { logicalId: string; properties: Record<string, unknown> } {
  const [topic] = resources("Alarms", "AWS::SNS::Topic");
  if (!topic) throw new Error("No alarm topic");
  return { logicalId: topic[0], properties: topic[1].Properties };
}

/** The name under which the Alarms stack exports a resource's Ref to the other stacks. */
function exportOf(logicalId: string): string {
  const outputs = Object.values(templates.Alarms.toJSON().Outputs) as { Value: unknown; Export?: { Name: string } }[];
  const exported = outputs.find(
    (output) => output.Export && JSON.stringify(output.Value) === JSON.stringify({ Ref: logicalId }),
  );
  if (!exported?.Export) throw new Error(`${logicalId} is not exported`);
  return exported.Export.Name;
}

function allAlarms(
  synthesized: Record<StackName, Template>,
): { stack: StackName; logicalId: string; properties: CfnResource["Properties"] }[] {
  return stackNames.flatMap((stack) =>
    resourcesIn(synthesized, stack, "AWS::CloudWatch::Alarm").map(([logicalId, alarm]) => ({
      stack,
      logicalId,
      properties: alarm.Properties,
    })),
  );
}

/** The properties of the alarms of a stack on a metric with this one dimension. */
function alarmsOn(
  synthesized: Record<StackName, Template>,
  stack: StackName,
  dimension: unknown,
): CfnResource["Properties"][] {
  return resourcesIn(synthesized, stack, "AWS::CloudWatch::Alarm")
    .map(([, alarm]) => alarm.Properties)
    .filter((alarm) => JSON.stringify(alarm.Dimensions) === JSON.stringify([dimension]));
}

function logGroupIdOf(fn: DeployedFunction): string {
  const logGroupId = fn.properties.LoggingConfig?.LogGroup?.Ref;
  if (typeof logGroupId !== "string") throw new Error(`${fn.logicalId} has no log group of its own`);
  return logGroupId;
}

function logGroupOf(
  synthesized: Record<StackName, Template>,
  fn: DeployedFunction,
): CfnResource & { DeletionPolicy?: string } {
  const group = synthesized[fn.stack].toJSON().Resources[logGroupIdOf(fn)];
  expect(group?.Type, fn.logicalId).toBe("AWS::Logs::LogGroup");
  return group;
}

function sortBy<T extends Record<string, unknown>>(items: T[], key: keyof T): T[] {
  return [...items].sort((a, b) => String(a[key]).localeCompare(String(b[key])));
}

function tableLogicalId(): string {
  const [entry] = resources("Storage", "AWS::DynamoDB::Table");
  if (!entry) throw new Error("No table");
  return entry[0];
}

/** A queue by its manifest name (`capture`, `capture-dlq`): SST names it `<stage>-<app>-<id>`. */
function queueResource(id: string): { logicalId: string; properties: Record<string, unknown> } {
  const found = resources("Messaging", "AWS::SQS::Queue").find(
    ([, queue]) => queue.Properties.QueueName === `${stage}-${appName}-${id}`,
  );
  if (!found) throw new Error(`No queue ${id}`);
  return { logicalId: found[0], properties: found[1].Properties };
}

function queueArn(id: string): unknown {
  return { "Fn::GetAtt": [queueResource(id).logicalId, "Arn"] };
}

function allQueueIds(): string[] {
  return Object.keys(queues).flatMap((name) => [name, `${name}-dlq`]);
}

function locationsAsLogicalIds(): ResourceLocations {
  const queueUrls = {} as ResourceLocations["queueUrls"];
  for (const name of Object.keys(queues) as QueueName[]) {
    queueUrls[name] = { url: queueResource(name).logicalId, deadLetterUrl: queueResource(`${name}-dlq`).logicalId };
  }
  // A workflow's ARN is built from its state machine's name (functions.ts, workflowArn).
  const workflowArns = Object.fromEntries(
    workflowEntries.map(([name]) => [name, `:stateMachine:${stateMachineName(name)}`]),
  );
  return {
    tableName: tableLogicalId(),
    queueUrls,
    domainEventTopicArn: domainEventsTopic().logicalId,
    publicUrl: { parameterName: publicUrlParameter() },
    workflowArns,
  };
}

/** Settings the stack sets itself, whatever the deploying shell says: the value each must hold. */
const stackSettings: Record<string, () => string> = { SES_CONFIGURATION_SET: () => configurationSet().logicalId };

/** The stage's SES configuration set (Messaging). */
function configurationSet(): { logicalId: string; properties: CfnResource["Properties"] } {
  const found = resources("Messaging", "AWS::SES::ConfigurationSet");
  expect(found).toHaveLength(1);
  const [logicalId, set] = found[0] as [string, CfnResource];
  return { logicalId, properties: set.Properties };
}

function configurationSetName(): string {
  return `${stage}-${appName}-email`;
}

/** The topic SES publishes the configuration set's events to. */
function sesEventsTopic(): { logicalId: string; properties: CfnResource["Properties"] } {
  const found = resources("Messaging", "AWS::SNS::Topic").find(
    ([, topic]) => topic.Properties.TopicName === `${stage}-${appName}-ses-events`,
  );
  if (!found) throw new Error("No SES events topic");
  return { logicalId: found[0], properties: found[1].Properties };
}

function domainEventsTopic(): { logicalId: string; properties: Record<string, unknown> } {
  const found = resources("Messaging", "AWS::SNS::Topic").find(
    ([, topic]) => topic.Properties.TopicName === `${stage}-${appName}-${domainEventTopic}`,
  );
  if (!found) throw new Error("No domain-event topic");
  return { logicalId: found[0], properties: found[1].Properties };
}

function stateMachine(workflow: string): { logicalId: string; properties: CfnResource["Properties"] } {
  const found = resources("Workflows", "AWS::StepFunctions::StateMachine").filter(
    ([, machine]) => machine.Properties.StateMachineName === stateMachineName(workflow),
  );
  expect(found, `state machines of ${workflow}`).toHaveLength(1);
  const [logicalId, machine] = found[0] as [string, CfnResource];
  return { logicalId, properties: machine.Properties };
}

/** Every Task state of an ASL definition, in Parallel branches and Map processors too. */
function taskStatesOf(definition: { States?: Record<string, Record<string, unknown>> }): Record<string, unknown>[] {
  return Object.values(definition.States ?? {}).flatMap((state) => [
    ...(state.Type === "Task" ? [state] : []),
    ...((state.Branches as (typeof definition)[] | undefined) ?? []).flatMap(taskStatesOf),
    ...[state.Iterator, state.ItemProcessor]
      .filter(Boolean)
      .flatMap((processor) => taskStatesOf(processor as typeof definition)),
  ]);
}

/** What SST names a workflow's state machine: `<stage>-<app>-<workflow>`. */
function stateMachineName(workflow: string): string {
  return `${stage}-${appName}-${workflow}`;
}

/** Names of the workflows whose state machines the statements allow `action` on. */
function workflowsReachedBy(statements: Statement[], action: string): string[] {
  const resourcesAllowed = statements
    .filter((statement) => actionsOf(statement).includes(action))
    .map((statement) => JSON.stringify(statement.Resource))
    .join(" ");
  const prefix = `:stateMachine:${stateMachineName("")}`;
  const names = [...resourcesAllowed.matchAll(new RegExp(`${prefix}([a-z0-9-]+)`, "g"))].map(
    (match) => match[1] as string,
  );
  return [...new Set(names)].sort();
}

/** A workflow task's function, by its handler (each task has its own). */
function taskFunction(handler: string): DeployedFunction {
  const found = resources("Workflows", "AWS::Lambda::Function").filter(([, fn]) => fn.Properties.Handler === handler);
  expect(found, `functions running ${handler}`).toHaveLength(1);
  return lambda("Workflows", (found[0] as [string, CfnResource])[0]);
}

function lambda(stack: StackName, logicalId: string): DeployedFunction {
  const resource = templates[stack].toJSON().Resources[logicalId] as CfnResource | undefined;
  if (resource?.Type !== "AWS::Lambda::Function") throw new Error(`${logicalId} is not a function`);
  return { stack, logicalId, properties: resource.Properties };
}

/** The function behind a route: route -> integration -> function. */
function routeFunction(routeKey: string): DeployedFunction {
  const route = resources("Api", "AWS::ApiGatewayV2::Route").find(
    ([, route]) => route.Properties.RouteKey === routeKey,
  );
  if (!route) throw new Error(`No route ${routeKey}`);
  const integrationId = route[1].Properties.Target["Fn::Join"][1][1].Ref as string;
  const integration = templates.Api.toJSON().Resources[integrationId] as CfnResource;
  expect(integration.Properties).toMatchObject({ IntegrationType: "AWS_PROXY", PayloadFormatVersion: "2.0" });
  return lambda("Api", integration.Properties.IntegrationUri["Fn::GetAtt"][0]);
}

function consumerFunction(name: string): DeployedFunction {
  const handler = consumers[name as keyof typeof consumers].handler;
  const found = resources("Messaging", "AWS::Lambda::Function").filter(([, fn]) => fn.Properties.Handler === handler);
  expect(found, `functions running ${handler}`).toHaveLength(1);
  return lambda("Messaging", (found[0] as [string, CfnResource])[0]);
}

function scheduleFunction(name: string): DeployedFunction {
  const handler = schedules[name as keyof typeof schedules].handler;
  const found = resources("Schedules", "AWS::Lambda::Function").filter(([, fn]) => fn.Properties.Handler === handler);
  expect(found, `functions running ${handler}`).toHaveLength(1);
  return lambda("Schedules", (found[0] as [string, CfnResource])[0]);
}

/** The SSM parameter that holds PUBLIC_URL for the stage. */
function publicUrlParameter(): string {
  return `/${appName}/${stage}/public-url`;
}

/** Statements of the policies attached to the function's role, in the given synthesis. */
function statementsIn(synthesized: Record<StackName, Template>, fn: DeployedFunction): Statement[] {
  const roleId = fn.properties.Role["Fn::GetAtt"][0] as string;
  return resourcesIn(synthesized, fn.stack, "AWS::IAM::Policy")
    .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref?: string }) => role.Ref === roleId))
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/** The email and SMS sending actions among the statements, with the resource each is allowed on. */
function outboundGrantsOf(statements: Statement[]): { action: string; resource: unknown }[] {
  return statements.flatMap((statement) =>
    actionsOf(statement)
      .filter((action) => outboundActions.includes(action))
      .map((action) => ({ action, resource: statement.Resource })),
  );
}

/** What `outboundGrantsOf` must find for a definition, with every setting set. */
function expectedOutboundGrants(definition: FunctionDefinition<string>): { action: string; resource: unknown }[] {
  const channels = definition.sendsVia ?? [];
  return [
    ...(channels.includes("email") ? [{ action: "ses:SendEmail", resource: expect.anything() }] : []),
    ...(channels.includes("sms")
      ? [{ action: "sms-voice:SendTextMessage", resource: operations.SMS_ORIGINATION_ARN }]
      : []),
  ];
}

/** An ARN as CloudFormation will resolve it in the standard partition. */
function arnText(value: unknown): string {
  if (typeof value === "string") return value;
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  if (!join) return JSON.stringify(value);
  return join[1]
    .map((part) => ((part as { Ref?: string }).Ref === "AWS::Partition" ? "aws" : arnText(part)))
    .join(join[0]);
}

function roleOf(fn: DeployedFunction): CfnResource {
  return templates[fn.stack].toJSON().Resources[fn.properties.Role["Fn::GetAtt"][0]];
}

/** Every statement of every policy attached to the function's role. */
function statementsOf(fn: DeployedFunction): Statement[] {
  const roleId = fn.properties.Role["Fn::GetAtt"][0] as string;
  return resources(fn.stack, "AWS::IAM::Policy")
    .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref?: string }) => role.Ref === roleId))
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

function actionsOf(statement: Statement): string[] {
  return [statement.Action].flat();
}

/** Manifest ids (`capture`, `capture-dlq`) of the queues the statements allow `action` on. */
function queuesReachedBy(statements: Statement[], action: string): string[] {
  const resourcesAllowed = statements
    .filter((statement) => actionsOf(statement).includes(action))
    .map((statement) => JSON.stringify(statement.Resource));
  return allQueueIds().filter((id) => {
    const logicalId = queueResource(id).logicalId;
    return resourcesAllowed.some((resource) => resource.includes(logicalId));
  });
}

/** Names of the SST secrets whose SSM parameters the statements allow reading. */
function secretsReadBy(statements: Statement[]): string[] {
  const resourcesAllowed = statements
    .filter((statement) => actionsOf(statement).includes("ssm:GetParameters"))
    .map((statement) => JSON.stringify(statement.Resource))
    .join(" ");
  const names = [...resourcesAllowed.matchAll(/\/Secret\/([A-Za-z0-9_-]+)\/value/g)].map((match) => match[1] as string);
  return [...new Set(names)].sort();
}
