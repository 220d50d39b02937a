import type { QueueName } from "@leadflow/manifest";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import { Alarm, ComparisonOperator, type Metric, Stats, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Duration } from "aws-cdk-lib/core";
import type { Construct } from "constructs";
import type { App, Function as LambdaFunction } from "sst/constructs";
import { constructId, type MessageQueue } from "./functions.ts";

/**
 * The stage's alarms, each created in the stack of what it watches and notifying the topic of the
 * `Alarms` stack. Each stack calls these for every queue and function it builds from the manifest.
 * What to do when one fires: docs/deploy.md, "Alarms: what fires, and what to do".
 */

/** How long a message may wait on a consumed queue before someone should look (15 minutes). */
export const oldestMessageLimitSeconds = 15 * 60;

const period = Duration.minutes(5);
const runbook = 'What to do: docs/deploy.md, "Alarms: what fires, and what to do".';

/** Every alarm is named `<stage>-leadflow-<what>`; the topic policy only lets such alarms publish. */
export function alarmName(scope: Construct, what: string): string {
  return (scope.node.root as App).logicalPrefixedName(what);
}

/** Any message in the queue's DLQ: a lead or an event that was not processed. */
export function alarmOnDeadLetters(scope: Construct, name: QueueName, { deadLetter }: MessageQueue, topic: ITopic) {
  notifying(topic, scope, `${name}-dlq-messages`, {
    metric: deadLetter.cdk.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM }),
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    threshold: 1,
    description: `${name}-dlq holds messages that were not processed; a consumer that gave up on one says why in its leadflow.error.* attributes.`,
  });
}

/** The consumer of the queue is behind or stopped: its oldest message waits too long. */
export function alarmOnOldestMessage(scope: Construct, name: QueueName, { queue }: MessageQueue, topic: ITopic) {
  notifying(topic, scope, `${name}-oldest-message`, {
    metric: queue.cdk.queue.metricApproximateAgeOfOldestMessage({ period, statistic: Stats.MAXIMUM }),
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    threshold: oldestMessageLimitSeconds,
    description: `The oldest message on ${name} is older than ${oldestMessageLimitSeconds / 60} minutes: its consumer is behind or failing.`,
  });
}

/**
 * The HTTP API answered 5xx: the handlers answer 500 for any unexpected error, which Lambda does
 * not count as a function error, and API Gateway does when a function fails or times out.
 */
export function alarmOnServerErrors(scope: Construct, api: HttpApi, topic: ITopic) {
  notifying(topic, scope, "api-5xx", {
    metric: api.metricServerError({ period, statistic: Stats.SUM }),
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    threshold: 0,
    description:
      "The HTTP API answered 5xx: find the requests in the access log and their errors in the function logs.",
  });
}

/**
 * Invocations of the function that failed (an exception, a timeout, a crash), or were throttled.
 * `name` is its manifest name: a route key, a consumer or a schedule.
 */
export function alarmOnFunctionFailures(scope: Construct, name: string, fn: LambdaFunction, topic: ITopic) {
  notifying(topic, scope, `${constructId(name)}-errors`, {
    metric: fn.metricErrors({ period, statistic: Stats.SUM }),
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    threshold: 0,
    description: `Function ${name} failed (Errors > 0): read its logs for the error.`,
  });
  notifying(topic, scope, `${constructId(name)}-throttles`, {
    metric: fn.metricThrottles({ period, statistic: Stats.SUM }),
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    threshold: 0,
    description: `Function ${name} was throttled (Throttles > 0): the account or region ran out of Lambda concurrency.`,
  });
}

/**
 * Executions of the workflow that failed (an uncaught error) or timed out (its own TimeoutSeconds):
 * a lead whose workflow stopped before it ended where the workflow says.
 */
export function alarmOnWorkflowFailures(scope: Construct, name: string, stateMachine: StateMachine, topic: ITopic) {
  notifying(topic, scope, `${constructId(name)}-workflow-failed`, {
    metric: stateMachine.metricFailed({ period, statistic: Stats.SUM }),
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    threshold: 0,
    description: `Workflow ${name}: an execution failed (ExecutionsFailed > 0): its execution history names the state and the error.`,
  });
  notifying(topic, scope, `${constructId(name)}-workflow-timed-out`, {
    metric: stateMachine.metricTimedOut({ period, statistic: Stats.SUM }),
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    threshold: 0,
    description: `Workflow ${name}: an execution timed out (ExecutionsTimedOut > 0): it ran longer than its TimeoutSeconds.`,
  });
}

interface Condition {
  metric: Metric;
  comparisonOperator: ComparisonOperator;
  threshold: number;
  description: string;
}

/** One period over the threshold alarms; no data (an idle queue or function) is fine. */
function notifying(topic: ITopic, scope: Construct, what: string, condition: Condition): void {
  const alarm = new Alarm(scope, what, {
    alarmName: alarmName(scope, what),
    alarmDescription: `${condition.description} ${runbook}`,
    metric: condition.metric,
    comparisonOperator: condition.comparisonOperator,
    threshold: condition.threshold,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new SnsAction(topic));
}
