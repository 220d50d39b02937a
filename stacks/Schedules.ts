import { type ScheduleDefinition, schedules } from "@leadflow/manifest";
import { Cron, Function as LambdaFunction, type StackContext, use } from "sst/constructs";
import { Alarms } from "./Alarms.ts";
import { type FunctionResources, functionProps } from "./functions.ts";
import { Messaging } from "./Messaging.ts";
import { alarmOnFunctionFailures } from "./monitoring.ts";
import { suppressFunctionFindings } from "./nag.ts";
import { Secrets } from "./Secrets.ts";
import { Storage } from "./Storage.ts";

/** Every manifest schedule as an EventBridge rule (SST `Cron`) running its own function, and its alarms. */
export function Schedules({ stack }: StackContext) {
  const resources: FunctionResources = { ...use(Storage), ...use(Messaging), ...use(Secrets) };
  const { alarmTopic } = use(Alarms);
  for (const [name, definition] of Object.entries(schedules) as [string, ScheduleDefinition][]) {
    const job = new LambdaFunction(stack, `${name}-job`, functionProps(stack, name, definition, resources));
    new Cron(stack, name, { schedule: definition.schedule as `cron(${string})`, job });
    suppressFunctionFindings(job, definition, resources.table);
    alarmOnFunctionFailures(stack, name, job, alarmTopic);
  }
}
