/**
 * Step Functions for `npm start`: the manifest's workflows, each run from its ASL file by
 * aws-local-stepfunctions (workflow-runner.ts), behind a local endpoint handlers reach through
 * `@aws-sdk/client-sfn` (`AWS_ENDPOINT_URL_SFN`). Executions live in memory: each workflow's
 * `localResume` handler, called once the stack has started, starts again from the table what was
 * running when it stopped.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type FunctionDefinition, functionDefaults, type WorkflowDefinition } from "@leadflow/manifest";
import { localAccountId, localRegion } from "./development.ts";
import { functionNameOf, type LambdaHandler, lambdaContext, projectRoot } from "./lambda-runtime.ts";
import { startStepFunctionsEndpoint } from "./step-functions-endpoint.ts";
import { type CompiledWorkflow, compileWorkflow } from "./workflow-definition.ts";
import { workflowRunner } from "./workflow-runner.ts";

/** `--fast` divides Wait states and the time a `.waitForTaskToken` Task waits by 60 (5 min becomes 5 s). */
export const workflowFastTimeScale = 1 / 60;

export interface StepFunctionsOptions {
  workflows: Readonly<Record<string, WorkflowDefinition<string>>>;
  /** Multiplies the Wait and callback times the ASL sets (`workflowFastTimeScale` with `--fast`). */
  timeScale: number;
  /** Where `definition` paths start. Default: the project root. */
  root?: string;
}

/** Imports a handler, named as the stack names it, with its own environment (as for routes). */
export type HandlerLoader = (name: string, definition: FunctionDefinition<string>) => Promise<LambdaHandler>;

export interface LocalStepFunctions {
  /** For `AWS_ENDPOINT_URL_SFN`. */
  endpoint: string;
  /** State machine ARNs by workflow name, for handlers' `<NAME>_WORKFLOW_ARN`. */
  workflowArns: Readonly<Record<string, string>>;
  /** Loads every task handler: executions started before run their tasks once this is done. */
  load(loader: HandlerLoader): Promise<void>;
  /** Calls each workflow's `localResume` handler once; a failure is reported, not thrown. */
  resume(loader: HandlerLoader): Promise<void>;
  /** Aborts running executions (they are not kept) and closes the endpoint. */
  stop(): Promise<void>;
}

/** The state machine ARN `npm start` gives a workflow (as SST names it on AWS: `<app>-<name>`). */
export function localWorkflowArn(workflow: string): string {
  return `arn:aws:states:${localRegion}:${localAccountId}:stateMachine:leadflow-${workflow}`;
}

export function localWorkflowArns(workflows: readonly string[]): Record<string, string> {
  return Object.fromEntries(workflows.map((workflow) => [workflow, localWorkflowArn(workflow)]));
}

/**
 * Checks and compiles every workflow (refusing to start on a mistake) and starts the endpoint;
 * task handlers are loaded later (`load`), once the environment they read is known.
 */
export async function startStepFunctions(options: StepFunctionsOptions): Promise<LocalStepFunctions> {
  const root = options.root ?? projectRoot;
  const entries = Object.entries(options.workflows);
  const compiled = new Map<string, CompiledWorkflow>(
    entries.map(([name, workflow]) => [
      localWorkflowArn(name),
      compileWorkflow(name, readFileSync(join(root, workflow.definition), "utf8"), Object.keys(workflow.tasks)),
    ]),
  );
  const handlers = Promise.withResolvers<Map<string, Invocable>>();
  // Never rejected: a load failure stops `npm start` before any execution can start.
  const runner = await workflowRunner({
    workflows: compiled,
    timeScale: options.timeScale,
    async invoke(workflow, task, event) {
      const invocable = (await handlers.promise).get(`${workflow}/${task}`);
      if (!invocable) throw new Error(`Workflow ${workflow} has no task ${task}`);
      return invocable(event);
    },
  });
  const endpoint = await startStepFunctionsEndpoint(runner);

  return {
    endpoint: endpoint.url,
    workflowArns: localWorkflowArns(entries.map(([name]) => name)),
    async load(loader) {
      const loaded = new Map<string, Invocable>();
      for (const [name, workflow] of entries) {
        for (const [task, definition] of Object.entries(workflow.tasks)) {
          loaded.set(`${name}/${task}`, invocable(definition, await loader(`workflow ${name} ${task}`, definition)));
        }
      }
      handlers.resolve(loaded);
    },
    async resume(loader) {
      for (const [name, workflow] of entries) {
        if (!workflow.localResume) continue;
        // The resume handler may always start its own workflow.
        const starts = [...new Set([...(workflow.localResume.startsWorkflows ?? []), name])];
        const definition = { ...workflow.localResume, startsWorkflows: starts };
        try {
          await invocable(
            definition,
            await loader(`workflow ${name} resume`, definition),
          )({ workflow: name, stateMachineArn: localWorkflowArn(name) });
        } catch (error) {
          console.error(`Workflow ${name}: resuming what was running failed:`, error);
        }
      }
    },
    async stop() {
      runner.stop();
      await endpoint.close();
    },
  };
}

type Invocable = (event: unknown) => Promise<unknown>;

/** A handler called as Lambda calls it: a JSON copy of the event in, a JSON copy of the result out. */
function invocable(definition: FunctionDefinition<string>, handler: LambdaHandler): Invocable {
  const functionName = functionNameOf(definition.handler);
  const timeoutSeconds = definition.timeoutSeconds ?? functionDefaults.timeoutSeconds;
  return async (event) => {
    const result: unknown = await handler(jsonCopy(event), lambdaContext(functionName, timeoutSeconds));
    return jsonCopy(result);
  };
}

function jsonCopy(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
