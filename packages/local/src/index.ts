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
export { metaGraphStandIn } from "./meta-graph-stand-in.ts";
export { startPoller, toRecord as toSqsRecord } from "./poller.ts";
export { type LocalStack, type LocalStackOptions, startLocalStack } from "./stack.ts";
