/**
 * The application's inventory: routes, queues and their consumers, workflows, secrets. The SST
 * stacks deploy it and the local runtime (`npm start`) runs it, so the two can never disagree.
 */

export const secretNames = [
  "FORM_SIGNING_SECRET",
  "META_APP_SECRET",
  "META_VERIFY_TOKEN",
  "META_PAGE_ACCESS_TOKEN",
  "GOOGLE_ADS_WEBHOOK_KEY",
  "ADMIN_API_KEY",
  "EVENTS_API_KEY",
] as const;
export type SecretName = (typeof secretNames)[number];

/**
 * The values `npm start` uses when the environment (or `.env`) sets none. They are public, so a
 * deployed function refuses to start with one of them (docs/configuration.md).
 */
export const developmentSecrets: Readonly<Record<SecretName, string>> = {
  FORM_SIGNING_SECRET: "whsec_bGVhZGZsb3ctbG9jYWwtZm9ybS1zaWduaW5nLXNlY3JldA==",
  META_APP_SECRET: "local-meta-app-secret",
  META_VERIFY_TOKEN: "local-meta-verify-token",
  META_PAGE_ACCESS_TOKEN: "local-meta-page-access-token",
  GOOGLE_ADS_WEBHOOK_KEY: "local-google-ads-webhook-key",
  ADMIN_API_KEY: "local-admin-key",
  EVENTS_API_KEY: "local-events-key",
};

/**
 * Secrets a form source of config/sources.yaml may name as its own signing secret
 * (`signingSecret`); the stack creates each one named there.
 */
export const sourceSecretPattern = /^FORM_SIGNING_SECRET_[A-Z0-9_]{1,40}$/;

const days = 24 * 60 * 60;

export interface QueueDefinition {
  visibilityTimeoutSeconds: number;
  retentionSeconds: number;
  /** Receives before SQS moves a message to the DLQ; our consumers dead-letter on the last one. */
  maxReceiveCount: number;
  deadLetterRetentionSeconds: number;
}

export const queues = {
  /** Accepted webhook deliveries, on their way to the table. */
  capture: {
    visibilityTimeoutSeconds: 120,
    retentionSeconds: 4 * days,
    maxReceiveCount: 12,
    deadLetterRetentionSeconds: 14 * days,
  },
  /** Accepted behaviour events, on their way to their lead's score. */
  events: {
    visibilityTimeoutSeconds: 120,
    retentionSeconds: 4 * days,
    maxReceiveCount: 12,
    deadLetterRetentionSeconds: 14 * days,
  },
  /**
   * Speed-to-lead's subscription to the domain events (see `subscriptions`): a lead turned hot or
   * marketing-qualified, or arrived from a source that alerts on arrival. Read by the speed-to-lead
   * work; until then they wait here, for 7 days.
   */
  qualified: {
    visibilityTimeoutSeconds: 120,
    retentionSeconds: 7 * days,
    maxReceiveCount: 12,
    deadLetterRetentionSeconds: 14 * days,
  },
  /**
   * Email and SMS to send, one message per channel and recipient (packages/channels/src/outbound),
   * each sent once per message id by the `outbound` consumer.
   */
  outbound: {
    visibilityTimeoutSeconds: 120,
    retentionSeconds: 4 * days,
    maxReceiveCount: 12,
    deadLetterRetentionSeconds: 14 * days,
  },
  /** Nurture steps that came due (the `nurture-step` tick), each run once by the `nurture` consumer. */
  nurture: {
    visibilityTimeoutSeconds: 120,
    retentionSeconds: 4 * days,
    maxReceiveCount: 12,
    deadLetterRetentionSeconds: 14 * days,
  },
  /**
   * SES's events about sent email (bounces, complaints, opens, clicks): the configuration set
   * publishes them to an SNS topic this queue is subscribed to (raw delivery); `npm start` takes
   * the same JSON at POST /_local/ses-events.
   */
  deliverability: {
    visibilityTimeoutSeconds: 120,
    retentionSeconds: 4 * days,
    maxReceiveCount: 12,
    deadLetterRetentionSeconds: 14 * days,
  },
} as const satisfies Record<string, QueueDefinition>;
export type QueueName = keyof typeof queues;

/**
 * Domain events (schemas in packages/core, `DomainEventSchema`) are published to one SNS topic,
 * with their `type` as a message attribute. Each queue listed here is subscribed to it with a
 * filter policy on `type` and raw message delivery: it receives exactly the event types it lists,
 * each message body being the event's JSON. A new consumer adds its queue above and one entry here.
 */
export interface SubscriptionDefinition {
  eventTypes: readonly string[];
}

export const subscriptions = {
  qualified: { eventTypes: ["lead.hot", "lead.marketing-qualified", "lead.arrived"] },
} as const satisfies Partial<Record<QueueName, SubscriptionDefinition>>;
export type SubscribedQueue = keyof typeof subscriptions;

/** The topic's name (prefixed with the stage on AWS, `leadflow-` locally). */
export const domainEventTopic = "domain-events";
/** How outbound messages travel: SES v2 for email, AWS End User Messaging for SMS. */
export type OutboundChannel = "email" | "sms";

/**
 * What a function may touch; the stack turns it into least-privilege grants. `Workflow` is only
 * widened by tests that deploy or run a fixture workflow beside the manifest's.
 */
export interface FunctionDefinition<Workflow extends string = WorkflowName> {
  /** SST handler path: file without extension, then the export. */
  handler: string;
  table?: "read" | "readwrite";
  sendsTo?: readonly QueueName[];
  /** Publishes domain events: `sns:Publish` on the topic, its ARN in DOMAIN_EVENTS_TOPIC_ARN. */
  publishesEvents?: boolean;
  /** Workflows it starts (`states:StartExecution`; their ARNs in `<NAME>_WORKFLOW_ARN`). */
  startsWorkflows?: readonly Workflow[];
  /** Workflows whose `.waitForTaskToken` tasks it answers (`states:SendTaskSuccess`/`Failure`/`Heartbeat`). */
  answersWorkflows?: readonly Workflow[];
  secrets?: readonly SecretName[];
  /** Also the signing secrets form sources name in config/sources.yaml (`signingSecret`). */
  sourceSecrets?: boolean;
  /** Plain settings read from the environment (see docs/configuration.md). */
  settings?: readonly string[];
  /** Channels it sends through itself (only the outbound consumer: others enqueue to `outbound`). */
  sendsVia?: readonly OutboundChannel[];
  /** It builds links to this deployment: `PUBLIC_URL` (docs/configuration.md). */
  publicUrl?: boolean;
  timeoutSeconds?: number;
  memoryMB?: number;
}

/** For definitions that leave them out. API Gateway gives up on an integration after 30 s. */
export const functionDefaults = { timeoutSeconds: 10, memoryMB: 1024 } as const;

export interface ConsumerDefinition extends FunctionDefinition {
  queue: QueueName;
  batchSize: number;
  /** First retry delay; each further retry doubles it (SQS visibility timeout). */
  retryBaseSeconds: number;
}

export const routes = {
  "GET /health": { handler: "functions/health.handler" },
  /**
   * Inbound SMS (End User Messaging two-way SMS → SNS → HTTPS): STOP/START/HELP keywords and
   * replies. A literal path, so it wins over `POST /webhooks/{source}` (on API Gateway and in the
   * local gateway alike).
   */
  "POST /webhooks/sms-inbound": {
    handler: "functions/nurture/sms-inbound.handler",
    table: "readwrite",
    sendsTo: ["outbound", "events"],
    /** The SNS topic End User Messaging publishes inbound SMS to: only its messages are taken (on AWS). */
    settings: ["SMS_INBOUND_TOPIC_ARN"],
  },
  "POST /webhooks/{source}": {
    handler: "functions/webhooks/capture.handler",
    sendsTo: ["capture"],
    secrets: ["FORM_SIGNING_SECRET", "META_APP_SECRET", "GOOGLE_ADS_WEBHOOK_KEY"],
    sourceSecrets: true,
  },
  "GET /webhooks/{source}": { handler: "functions/webhooks/handshake.handler", secrets: ["META_VERIFY_TOKEN"] },
  "GET /leads": { handler: "functions/leads/find.handler", table: "read", secrets: ["ADMIN_API_KEY"] },
  "GET /leads/{id}": { handler: "functions/leads/get.handler", table: "read", secrets: ["ADMIN_API_KEY"] },
  "POST /leads/{id}/events": {
    handler: "functions/leads/events.handler",
    table: "read",
    sendsTo: ["events"],
    secrets: ["EVENTS_API_KEY", "ADMIN_API_KEY"],
  },
  /** A speed-to-lead alert's page: the token in the link is the credential. */
  "GET /alerts/{token}": { handler: "functions/alerts/page.handler", table: "read" },
  "POST /alerts/{token}": {
    handler: "functions/alerts/answer.handler",
    table: "readwrite",
    publishesEvents: true,
    answersWorkflows: ["speed-to-lead"],
  },
  /** A nurture email's unsubscribe link: the token is the credential. GET shows a page, POST unsubscribes (RFC 8058). */
  "GET /unsubscribe/{token}": { handler: "functions/nurture/unsubscribe-page.handler", table: "read" },
  "POST /unsubscribe/{token}": { handler: "functions/nurture/unsubscribe.handler", table: "readwrite" },
  "GET /reports/speed-to-lead": {
    handler: "functions/reports/speed-to-lead.handler",
    table: "read",
    secrets: ["ADMIN_API_KEY"],
  },
} as const satisfies Record<string, FunctionDefinition>;
export type RouteKey = keyof typeof routes;

export const consumers = {
  ingest: {
    handler: "functions/ingest/capture-worker.handler",
    queue: "capture",
    batchSize: 10,
    retryBaseSeconds: 30,
    timeoutSeconds: 20,
    table: "readwrite",
    publishesEvents: true,
    secrets: ["META_PAGE_ACCESS_TOKEN"],
    settings: ["META_GRAPH_URL"],
  },
  score: {
    handler: "functions/scoring/events-worker.handler",
    queue: "events",
    batchSize: 10,
    retryBaseSeconds: 10,
    timeoutSeconds: 20,
    table: "readwrite",
    publishesEvents: true,
  },
  /** Speed-to-lead: a lead turned hot, marketing-qualified, or arrived from an alertOnArrival source. */
  route: {
    handler: "functions/speed-to-lead/trigger.handler",
    queue: "qualified",
    batchSize: 10,
    retryBaseSeconds: 5,
    timeoutSeconds: 20,
    table: "readwrite",
    startsWorkflows: ["speed-to-lead"],
  },
  /** Sends each outbound message once per id; the lease of its claim is its timeout. */
  send: {
    handler: "functions/outbound/sender.handler",
    queue: "outbound",
    batchSize: 10,
    retryBaseSeconds: 5,
    timeoutSeconds: 20,
    table: "readwrite",
    sendsVia: ["email", "sms"],
    /** The SES configuration set emails are sent with (the stack sets it): SES events reach `deliverability`. */
    settings: ["SES_CONFIGURATION_SET"],
  },
  /** Runs each due nurture step once: exits, windows, caps, consent, then the message. */
  nurture: {
    handler: "functions/nurture/step-worker.handler",
    queue: "nurture",
    batchSize: 10,
    retryBaseSeconds: 10,
    timeoutSeconds: 20,
    table: "readwrite",
    sendsTo: ["outbound"],
    publicUrl: true,
    settings: ["NURTURE_ACCOUNT_TIMEZONE"],
  },
  /** SES events: hard bounces and complaints suppress the address; opens and clicks become lead events. */
  deliverability: {
    handler: "functions/nurture/ses-events.handler",
    queue: "deliverability",
    batchSize: 10,
    retryBaseSeconds: 10,
    timeoutSeconds: 20,
    table: "readwrite",
    sendsTo: ["events"],
  },
} as const satisfies Record<string, ConsumerDefinition>;

/** Queues some consumer of this release reads; the others only fill up for later releases. */
export const consumedQueues = [...new Set(Object.values(consumers).map((consumer) => consumer.queue))] as QueueName[];

export interface ScheduleDefinition<Workflow extends string = WorkflowName> extends FunctionDefinition<Workflow> {
  /**
   * EventBridge cron expression (UTC): `cron(minutes hours day-of-month month day-of-week year)`.
   * `npm start` runs it on the local clock from the same expression.
   */
  schedule: `cron(${string})`;
}

export const schedules = {
  /** Daily: leads whose temperature may have dropped (cooling index) are scored again. */
  "refresh-temperatures": {
    handler: "functions/scoring/refresh-temperatures.handler",
    schedule: "cron(15 5 * * ? *)",
    timeoutSeconds: 900,
    table: "readwrite",
    publishesEvents: true,
  },
  /** Hourly: leads gone cold since the last look (the cold index) are enrolled in the sequences they match. */
  "nurture-enrol": {
    handler: "functions/nurture/enrol.handler",
    schedule: "cron(7 * * * ? *)",
    timeoutSeconds: 900,
    table: "readwrite",
  },
  /** Every 5 minutes: nurture steps due by now (the due index) go to the nurture queue. */
  "nurture-step": {
    handler: "functions/nurture/step-tick.handler",
    schedule: "cron(0/5 * * * ? *)",
    timeoutSeconds: 300,
    table: "read",
    sendsTo: ["nurture"],
  },
} as const satisfies Record<string, ScheduleDefinition>;
export type ScheduleName = keyof typeof schedules;

/**
 * Step Functions (Standard) workflows. Names are listed first so that functions can name the
 * workflows they start or answer (`startsWorkflows`, `answersWorkflows`).
 */
export const workflowNames = ["speed-to-lead"] as const;
export type WorkflowName = (typeof workflowNames)[number];

/** A workflow: its ASL, its task handlers, and how `npm start` picks up what was running. */
export interface WorkflowDefinition<Workflow extends string = WorkflowName> {
  /** The ASL file from the project root, under stacks/ (`stacks/workflows/<name>.asl.json`). */
  definition: string;
  /**
   * Its task handlers, by the name the ASL gives them in a `${Name}` placeholder: as the
   * `Parameters.FunctionName` of an `arn:aws:states:::lambda:invoke` Task (with
   * `.waitForTaskToken` or not), or as a Task's `Resource`. The stack substitutes each one's
   * function ARN; `npm start` runs the handler. Every Task sets `TimeoutSeconds` or
   * `TimeoutSecondsPath`.
   */
  tasks: Readonly<Record<string, FunctionDefinition<Workflow>>>;
  /**
   * `npm start` only, where executions live in memory: called once when it has started, to start
   * again from the table what was running when it stopped. It may start this workflow.
   */
  localResume?: FunctionDefinition<Workflow>;
}

/** What a speed-to-lead task may touch: the table, the outbound queue, the links' base. */
const alertTask = {
  table: "readwrite",
  sendsTo: ["outbound"],
  publicUrl: true,
  settings: ["WORKFLOW_TIME_SCALE"],
  timeoutSeconds: 20,
} as const satisfies Omit<FunctionDefinition, "handler">;

export const workflows: Readonly<Record<WorkflowName, WorkflowDefinition>> = {
  /** Alert the right rep, wait for an answer, escalate to the next rep and the manager. */
  "speed-to-lead": {
    definition: "stacks/workflows/speed-to-lead.asl.json",
    tasks: {
      AlertNext: { handler: "functions/speed-to-lead/alert-next.handler", ...alertTask },
      StartShift: { handler: "functions/speed-to-lead/start-shift.handler", ...alertTask },
      AwaitAnswer: {
        handler: "functions/speed-to-lead/await-answer.handler",
        table: "readwrite",
        answersWorkflows: ["speed-to-lead"],
      },
      Remind: { handler: "functions/speed-to-lead/remind.handler", ...alertTask },
      Expire: { handler: "functions/speed-to-lead/expire.handler", table: "readwrite" },
    },
    localResume: { handler: "functions/speed-to-lead/resume.handler", ...alertTask, timeoutSeconds: 300 },
  },
};

/** The placeholders (`${Name}`) an ASL text holds, each once, in order of appearance. */
export function workflowPlaceholders(asl: string): string[] {
  return [...new Set([...asl.matchAll(/\$\{([^}]*)\}/g)].map((match) => match[1] as string))];
}

/** Settings every function reads when they are set (see docs/configuration.md). */
export const commonSettings = ["POWERTOOLS_LOG_LEVEL"] as const;

/** Where the deployed (or local) resources are, to build each function's environment. */
export interface ResourceLocations {
  tableName: string;
  queueUrls: Record<QueueName, { url: string; deadLetterUrl: string }>;
  domainEventTopicArn: string;
  /**
   * The base of links in messages: the URL itself (npm start), or the SSM parameter that holds it
   * (on AWS, where the API is created after the functions that enqueue messages).
   */
  publicUrl?: { url: string } | { parameterName: string };
  /** State machine ARNs by workflow name. */
  workflowArns: Readonly<Record<string, string>>;
}

export const environmentNames = {
  tableName: "TABLE_NAME",
  queueUrl: (queue: QueueName) => `${queue.toUpperCase()}_QUEUE_URL`,
  domainEventTopicArn: "DOMAIN_EVENTS_TOPIC_ARN",
  /** A consumer's own queue, for retry delays. */
  ownQueueUrl: "QUEUE_URL",
  deadLetterUrl: "DEAD_LETTER_QUEUE_URL",
  /** `speed-to-lead` is `SPEED_TO_LEAD_WORKFLOW_ARN`. */
  workflowArn: (workflow: string) => `${workflow.toUpperCase().replaceAll("-", "_")}_WORKFLOW_ARN`,
  maxReceiveCount: "MAX_RECEIVE_COUNT",
  retryBaseSeconds: "RETRY_BASE_SECONDS",
  /** The base of links in messages, or (on AWS) the SSM parameter holding it. */
  publicUrl: "PUBLIC_URL",
  publicUrlParameter: "PUBLIC_URL_PARAMETER",
  /** Set to `local` by `npm start`, where the public development secrets are allowed. */
  runtime: "LEADFLOW_RUNTIME",
  /**
   * Where handlers read config/ (default `config`). `npm start` points it at a checked copy of
   * each accepted edit, so its handlers read the config again; on AWS the config ships with the
   * code and a deploy replaces the functions.
   */
  configDir: "LEADFLOW_CONFIG_DIR",
} as const;

/** The environment one function needs, besides its secrets and settings. */
export function environmentFor(
  definition: FunctionDefinition<string> | ConsumerDefinition,
  resources: ResourceLocations,
): Record<string, string> {
  const environment: Record<string, string> = {};
  if (definition.table) environment[environmentNames.tableName] = resources.tableName;
  for (const queue of definition.sendsTo ?? []) {
    environment[environmentNames.queueUrl(queue)] = resources.queueUrls[queue].url;
  }
  if (definition.publishesEvents) environment[environmentNames.domainEventTopicArn] = resources.domainEventTopicArn;
  for (const workflow of definition.startsWorkflows ?? []) {
    const arn = resources.workflowArns[workflow];
    if (!arn) throw new Error(`No state machine for workflow "${workflow}"`);
    environment[environmentNames.workflowArn(workflow)] = arn;
  }
  if ("queue" in definition) {
    environment[environmentNames.ownQueueUrl] = resources.queueUrls[definition.queue].url;
    environment[environmentNames.deadLetterUrl] = resources.queueUrls[definition.queue].deadLetterUrl;
    environment[environmentNames.maxReceiveCount] = String(queues[definition.queue].maxReceiveCount);
    environment[environmentNames.retryBaseSeconds] = String(definition.retryBaseSeconds);
  }
  if (definition.publicUrl && resources.publicUrl) {
    if ("url" in resources.publicUrl) environment[environmentNames.publicUrl] = resources.publicUrl.url;
    else environment[environmentNames.publicUrlParameter] = resources.publicUrl.parameterName;
  }
  return environment;
}
