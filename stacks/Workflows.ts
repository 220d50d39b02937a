import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type WorkflowDefinition, type WorkflowName, workflowPlaceholders, workflows } from "@leadflow/manifest";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { Function as LambdaFunction, type StackContext, use } from "sst/constructs";
import { useProject } from "sst/project.js";
import { Alarms } from "./Alarms.ts";
import { constructId, type FunctionResources, functionProps, logGroup, workflowStateMachineName } from "./functions.ts";
import { Messaging } from "./Messaging.ts";
import { alarmOnFunctionFailures, alarmOnWorkflowFailures } from "./monitoring.ts";
import { suppressFunctionFindings, suppressWorkflowFindings } from "./nag.ts";
import { Secrets } from "./Secrets.ts";
import { Storage } from "./Storage.ts";

/**
 * Every manifest workflow as a Step Functions Standard state machine, with its task functions.
 * Functions that start or answer a workflow are granted it by name in their own stacks (see
 * `workflowArn`), so this stack needs only what the task functions touch: after Messaging.
 */
export function Workflows({ stack }: StackContext) {
  const resources: FunctionResources = { ...use(Storage), ...use(Messaging), ...use(Secrets) };
  const { alarmTopic } = use(Alarms);
  const entries = Object.entries(workflows) as [WorkflowName, WorkflowDefinition][];
  for (const [name, workflow] of entries) deployWorkflow(stack, name, workflow, resources, alarmTopic);
}

/** A workflow's ASL names a task the manifest does not list, or the manifest lists a task it never uses. */
export class WorkflowDefinitionError extends Error {
  override readonly name = "WorkflowDefinitionError";
  readonly code = "invalid_workflow_definition";
}

/**
 * One workflow: its task functions (each a manifest function with its own grants, log group and
 * alarms) and its state machine, defined by the ASL file as it is (`DefinitionBody.fromString`
 * keeps it in the template) with each `${Task}` placeholder substituted by that task's function
 * ARN. The state machine's role may invoke exactly those functions, and write its logs and traces.
 */
export function deployWorkflow(
  scope: Construct,
  name: string,
  workflow: WorkflowDefinition<string>,
  resources: FunctionResources,
  alarmTopic: ITopic,
): StateMachine {
  const asl = readFileSync(join(useProject().paths.root, workflow.definition), "utf8");
  checkPlaceholders(name, asl, Object.keys(workflow.tasks));

  const taskFunctions = Object.entries(workflow.tasks).map(([task, definition]) => {
    const id = `${name}-${task}`;
    const fn = new LambdaFunction(scope, constructId(id), functionProps(scope, id, definition, resources));
    suppressFunctionFindings(fn, definition, resources.table);
    alarmOnFunctionFailures(scope, id, fn, alarmTopic);
    return [task, fn] as const;
  });

  const stateMachine = new StateMachine(scope, `${constructId(name)}-workflow`, {
    stateMachineName: workflowStateMachineName(scope, name),
    stateMachineType: StateMachineType.STANDARD,
    definitionBody: DefinitionBody.fromString(asl),
    definitionSubstitutions: Object.fromEntries(taskFunctions.map(([task, fn]) => [task, fn.functionArn])),
    // Every state's transitions, without their input and output: those hold leads' data.
    logs: { destination: logGroup(scope, `${name}-workflow`), level: LogLevel.ALL, includeExecutionData: false },
    tracingEnabled: true,
  });
  // Exactly the unqualified function ARNs the definition names (no `:*` for versions or aliases).
  stateMachine.addToRolePolicy(
    new PolicyStatement({
      actions: ["lambda:InvokeFunction"],
      resources: taskFunctions.map(([, fn]) => fn.functionArn),
    }),
  );
  suppressWorkflowFindings(stateMachine);
  alarmOnWorkflowFailures(scope, name, stateMachine, alarmTopic);
  return stateMachine;
}

function checkPlaceholders(name: string, asl: string, tasks: readonly string[]): void {
  const placeholders = workflowPlaceholders(asl);
  const unknown = placeholders.filter((placeholder) => !tasks.includes(placeholder));
  const unused = tasks.filter((task) => !placeholders.includes(task));
  if (unknown.length > 0 || unused.length > 0) {
    throw new WorkflowDefinitionError(
      `Workflow ${name}: ${[
        ...unknown.map((placeholder) => `\${${placeholder}} is not one of its manifest tasks`),
        ...unused.map((task) => `task ${task} appears nowhere in its ASL as \${${task}}`),
      ].join("; ")}`,
    );
  }
}
