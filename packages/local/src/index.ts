export { developmentSecrets, localTableName } from "./development.ts";
export { dynamoClient, ensureQueues, ensureTable, sqsClient, startDynamo, startSqs } from "./emulators.ts";
export { metaGraphStandIn } from "./meta-graph-stand-in.ts";
export { startPoller, toRecord as toSqsRecord } from "./poller.ts";
export { type LocalStack, type LocalStackOptions, startLocalStack } from "./stack.ts";
export {
  type LocalStepFunctions,
  localWorkflowArn,
  startStepFunctions,
  workflowFastTimeScale,
} from "./step-functions.ts";
export { compileWorkflow, tasksWithoutTimeout, WorkflowDefinitionError } from "./workflow-definition.ts";
