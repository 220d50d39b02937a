export { developmentSecrets, localTableName } from "./development.ts";
export {
  dynamoClient,
  ensureEventTopic,
  ensureQueues,
  ensureTable,
  snsClient,
  sqsClient,
  startDynamo,
  startSqs,
  subscriptionAttributes,
} from "./emulators.ts";
export {
  type HandlerEnvironment,
  type HandlerEnvironmentReport,
  isolateHandlerEnvironments,
  localEnvironmentFor,
  runAs,
} from "./handler-environment.ts";
export { messagesTool } from "./messages-tool.ts";
export { metaGraphStandIn } from "./meta-graph-stand-in.ts";
export { type Outbox, type OutboxItem, openOutbox } from "./outbox.ts";
export { startPoller, toRecord as toSqsRecord } from "./poller.ts";
export { type SesEmulator, startSes } from "./ses-emulator.ts";
export { startSms } from "./sms-emulator.ts";
export { type LocalStack, type LocalStackOptions, startLocalStack } from "./stack.ts";
export {
  type LocalStepFunctions,
  localWorkflowArn,
  startStepFunctions,
  workflowFastTimeScale,
} from "./step-functions.ts";
export { compileWorkflow, tasksWithoutTimeout, WorkflowDefinitionError } from "./workflow-definition.ts";
