import {
  type ConsumerDefinition,
  commonSettings,
  environmentFor,
  type FunctionDefinition,
  functionDefaults,
  type QueueName,
  type ResourceLocations,
  type SecretName,
} from "@leadflow/manifest";
import { tableActions } from "@leadflow/store/table";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Config, FunctionProps, Queue, Table } from "sst/constructs";

/** A work queue and the dead-letter queue its consumer (and SQS redrive) moves failures to. */
export interface MessageQueue {
  queue: Queue;
  deadLetter: Queue;
}

/** What a manifest function can be granted: the stacks' resources, by manifest name. */
export interface FunctionResources {
  table: Table;
  queues: Record<QueueName, MessageQueue>;
  secrets: Record<SecretName, Config.Secret>;
}

type Permissions = NonNullable<FunctionProps["permissions"]>;

/**
 * A manifest function as SST function props: handler, limits, environment (`environmentFor`,
 * the same as the local runtime), bound secrets and least-privilege grants. Neither the table nor
 * the queues are `bind`-ed: SST's binding grants `dynamodb:*` / `sqs:*`.
 */
export function functionProps(
  definition: FunctionDefinition | ConsumerDefinition,
  resources: FunctionResources,
): FunctionProps {
  return {
    handler: definition.handler,
    timeout: definition.timeoutSeconds ?? functionDefaults.timeoutSeconds,
    memorySize: definition.memoryMB ?? functionDefaults.memoryMB,
    environment: { ...environmentFor(definition, locations(resources)), ...deploySettings(definition) },
    bind: (definition.secrets ?? []).map((name) => resources.secrets[name]),
    permissions: grants(definition, resources),
  };
}

function grants(definition: FunctionDefinition | ConsumerDefinition, resources: FunctionResources): Permissions {
  const permissions: Permissions = [];
  if (definition.table) {
    const { tableArn } = resources.table;
    const actions = [...tableActions[definition.table]];
    permissions.push(new PolicyStatement({ actions, resources: [tableArn, `${tableArn}/index/*`] }));
  }
  for (const queue of definition.sendsTo ?? []) {
    permissions.push([resources.queues[queue].queue.cdk.queue, "grantSendMessages"]);
  }
  // A consumer dead-letters a message itself, with the reason. Receiving, deleting and delaying
  // messages of its own queue comes with the event source mapping.
  if ("queue" in definition) {
    permissions.push([resources.queues[definition.queue].deadLetter.cdk.queue, "grantSendMessages"]);
  }
  return permissions;
}

function locations({ table, queues }: FunctionResources): ResourceLocations {
  const queueUrls = {} as ResourceLocations["queueUrls"];
  for (const [name, { queue, deadLetter }] of Object.entries(queues) as [QueueName, MessageQueue][]) {
    queueUrls[name] = { url: queue.queueUrl, deadLetterUrl: deadLetter.queueUrl };
  }
  return { tableName: table.tableName, queueUrls };
}

/** Plain settings (e.g. META_GRAPH_URL) reach a function only when set in the deploying shell. */
function deploySettings(definition: FunctionDefinition): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const name of [...commonSettings, ...(definition.settings ?? [])]) {
    const value = process.env[name];
    if (value) settings[name] = value;
  }
  return settings;
}
