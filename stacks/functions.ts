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
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { ArnFormat, type App as CdkApp, Stack as CdkStack, RemovalPolicy } from "aws-cdk-lib/core";
import type { Construct } from "constructs";
import { type App, type Config, type FunctionProps, type Queue, Stack, type Table } from "sst/constructs";
import { operationsSettings, outboundSettings } from "./settings.ts";

/** A work queue and the dead-letter queue its consumer (and SQS redrive) moves failures to. */
export interface MessageQueue {
  queue: Queue;
  deadLetter: Queue;
}

/** What a manifest function can be granted: the stacks' resources, by manifest name. */
export interface FunctionResources {
  table: Table;
  queues: Record<QueueName, MessageQueue>;
  /** Where domain events are published. */
  domainEventTopic: ITopic;
  secrets: Record<SecretName, Config.Secret>;
  /** The signing secrets form sources name (config/sources.yaml). */
  sourceSecrets: Config.Secret[];
  /**
   * The SES configuration set emails are sent with (Messaging): given to the functions that list
   * the SES_CONFIGURATION_SET setting, whose email grant then covers it too.
   */
  emailConfigurationSetName?: string;
}

type Permissions = NonNullable<FunctionProps["permissions"]>;

/**
 * A manifest function (`name`: its route key, consumer or schedule) as SST function props:
 * handler, limits, environment (`environmentFor`, the same as the local runtime), bound secrets,
 * least-privilege grants, and a log group of its own in `scope`. Neither the table nor the queues
 * are `bind`-ed: SST's binding grants `dynamodb:*` / `sqs:*`.
 */
export function functionProps(
  scope: Construct,
  name: string,
  definition: FunctionDefinition<string> | ConsumerDefinition,
  resources: FunctionResources,
): FunctionProps {
  return {
    handler: definition.handler,
    timeout: definition.timeoutSeconds ?? functionDefaults.timeoutSeconds,
    memorySize: definition.memoryMB ?? functionDefaults.memoryMB,
    environment: {
      ...environmentFor(definition, locations(scope, definition, resources)),
      ...deploySettings(definition),
      ...stackSettings(definition, resources),
    },
    bind: [
      ...(definition.secrets ?? []).map((name) => resources.secrets[name]),
      ...(definition.sourceSecrets ? resources.sourceSecrets : []),
    ],
    permissions: grants(scope, definition, resources),
    logGroup: logGroup(scope, name),
  };
}

/** A manifest name (a route key, a consumer, a schedule) in construct ids: `GET /leads/{id}` is `GET-leads-id`. */
export function constructId(name: string): string {
  return name.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/**
 * Created with the function rather than by Lambda on first use, so it has a retention
 * (LOG_RETENTION_DAYS) without CDK's log-retention custom resource. CloudFormation names it: a
 * retained group with a fixed name would block deploying the stage again after `sst remove`.
 */
export function logGroup(scope: Construct, name: string): LogGroup {
  return new LogGroup(scope, `${constructId(name)}-logs`, {
    retention: operationsSettings().logRetentionDays,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/**
 * A workflow's state machine is named `<stage>-<app>-<workflow>`, so functions in any stack can be
 * granted it and given its ARN without a reference to (and a dependency on) the Workflows stack.
 */
export function workflowStateMachineName(scope: Construct, workflow: string): string {
  return (scope.node.root as App).logicalPrefixedName(workflow);
}

export function workflowArn(scope: Construct, workflow: string): string {
  return CdkStack.of(scope).formatArn({
    service: "states",
    resource: "stateMachine",
    resourceName: workflowStateMachineName(scope, workflow),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** Answering a `.waitForTaskToken` task: success, failure, or "still working". */
export const taskAnswerActions = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"];

function grants(
  scope: Construct,
  definition: FunctionDefinition<string> | ConsumerDefinition,
  resources: FunctionResources,
): Permissions {
  const permissions: Permissions = [];
  if (definition.table) {
    const { tableArn } = resources.table;
    const actions = [...tableActions[definition.table]];
    permissions.push(new PolicyStatement({ actions, resources: [tableArn, `${tableArn}/index/*`] }));
  }
  for (const queue of definition.sendsTo ?? []) {
    permissions.push([resources.queues[queue].queue.cdk.queue, "grantSendMessages"]);
  }
  if (definition.publishesEvents) {
    permissions.push(
      new PolicyStatement({ actions: ["sns:Publish"], resources: [resources.domainEventTopic.topicArn] }),
    );
  }
  // A consumer dead-letters a message itself, with the reason. Receiving, deleting and delaying
  // messages of its own queue comes with the event source mapping.
  if ("queue" in definition) {
    permissions.push([resources.queues[definition.queue].deadLetter.cdk.queue, "grantSendMessages"]);
  }
  permissions.push(...outboundGrants(scope, definition, stackSettings(definition, resources).SES_CONFIGURATION_SET));
  if (definition.publicUrl) {
    const parameter = Stack.of(scope).formatArn({
      service: "ssm",
      resource: "parameter",
      resourceName: publicUrlParameterName(scope).slice(1),
    });
    permissions.push(new PolicyStatement({ actions: ["ssm:GetParameter"], resources: [parameter] }));
  }
  const starts = definition.startsWorkflows ?? [];
  if (starts.length > 0) {
    const stateMachines = starts.map((workflow) => workflowArn(scope, workflow));
    permissions.push(new PolicyStatement({ actions: ["states:StartExecution"], resources: stateMachines }));
  }
  // The Service Authorization Reference lists no resource type for these actions, yet Step
  // Functions authorizes them on the state machine whose task issued the token (its AccessDenied
  // names that ARN, and CDK's grantTaskResponse grants exactly it): no "*" is needed.
  const answers = definition.answersWorkflows ?? [];
  if (answers.length > 0) {
    const stateMachines = answers.map((workflow) => workflowArn(scope, workflow));
    permissions.push(new PolicyStatement({ actions: taskAnswerActions, resources: stateMachines }));
  }
  return permissions;
}

/**
 * Sending as the one SES identity and from the one origination identity the stage is set up with
 * (SES_IDENTITY, SMS_ORIGINATION_ARN): the narrowest resources each action takes. SES authorizes
 * a send with a configuration set on the set too, so the email grant names the stage's set.
 * Unset, the channel gets no grant and its sends are dead-lettered as AccessDenied (docs/deploy.md).
 */
function outboundGrants(
  scope: Construct,
  definition: FunctionDefinition<string>,
  configurationSet: string | undefined,
): PolicyStatement[] {
  const { sesIdentity, smsOriginationArn } = outboundSettings();
  const channels = new Set(definition.sendsVia ?? []);
  const statements: PolicyStatement[] = [];
  if (channels.has("email") && sesIdentity) {
    const identity = Stack.of(scope).formatArn({
      service: "ses",
      resource: "identity",
      resourceName: sesIdentity,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const set = configurationSet
      ? [
          Stack.of(scope).formatArn({
            service: "ses",
            resource: "configuration-set",
            resourceName: configurationSet,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ]
      : [];
    statements.push(new PolicyStatement({ actions: ["ses:SendEmail"], resources: [identity, ...set] }));
  }
  if (channels.has("sms") && smsOriginationArn) {
    statements.push(new PolicyStatement({ actions: ["sms-voice:SendTextMessage"], resources: [smsOriginationArn] }));
  }
  return statements;
}

/**
 * The SSM parameter holding PUBLIC_URL (written by the Api stack): its name is fixed per stage, so
 * functions created before the API can be pointed at it and read it at cold start.
 */
export function publicUrlParameterName(scope: Construct): string {
  const app = scope.node.root as App;
  return `/${app.name}/${app.stage}/public-url`;
}

function locations(
  scope: Construct,
  definition: FunctionDefinition<string>,
  { table, queues, domainEventTopic }: FunctionResources,
): ResourceLocations {
  const queueUrls = {} as ResourceLocations["queueUrls"];
  for (const [name, { queue, deadLetter }] of Object.entries(queues) as [QueueName, MessageQueue][]) {
    queueUrls[name] = { url: queue.queueUrl, deadLetterUrl: deadLetter.queueUrl };
  }
  const started = definition.startsWorkflows ?? [];
  const workflowArns = Object.fromEntries(started.map((workflow) => [workflow, workflowArn(scope, workflow)]));
  return {
    tableName: table.tableName,
    queueUrls,
    domainEventTopicArn: domainEventTopic.topicArn,
    publicUrl: { parameterName: publicUrlParameterName(scope) },
    workflowArns,
  };
}

/** Settings the stack itself gives the functions that list them: SES_CONFIGURATION_SET, the stage's set. */
function stackSettings(definition: FunctionDefinition<string>, resources: FunctionResources): Record<string, string> {
  const listed = new Set(definition.settings ?? []);
  return listed.has("SES_CONFIGURATION_SET") && resources.emailConfigurationSetName
    ? { SES_CONFIGURATION_SET: resources.emailConfigurationSetName }
    : {};
}

/** Plain settings (e.g. META_GRAPH_URL) reach a function only when set in the deploying shell. */
function deploySettings(definition: FunctionDefinition<string>): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const name of [...commonSettings, ...(definition.settings ?? [])]) {
    const value = process.env[name];
    if (value) settings[name] = value;
  }
  return settings;
}

/** SST's own custom-resource function, which it adds to every stack, gets a log group with the retention too. */
export function giveSstHandlersLogGroups(app: CdkApp): void {
  for (const stack of app.node.children) {
    if (!(stack instanceof Stack)) continue;
    const handler = stack.customResourceHandler.node.defaultChild as CfnFunction;
    handler.loggingConfig = { logGroup: logGroup(stack, "CustomResourceHandler").logGroupName };
  }
}
