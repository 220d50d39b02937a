import { readFileSync } from "node:fs";
import {
  environmentFor,
  environmentNames,
  type WorkflowDefinition,
  workflowPlaceholders,
  workflows,
} from "@leadflow/manifest";
import { describe, expect, test } from "vitest";
import {
  compileWorkflow,
  tasksWithoutTimeout,
  WorkflowDefinitionError,
} from "../../packages/local/src/workflow-definition.ts";
import { fixtureWorkflows } from "../fixtures/workflows/manifest.ts";

/** Every workflow the manifest declares, and the test fixtures, with their ASL text. */
const allWorkflows = [
  ...(Object.entries(workflows) as [string, WorkflowDefinition<string>][]),
  ...(Object.entries(fixtureWorkflows) as [string, WorkflowDefinition<string>][]),
].map(([name, workflow]) => ({ name, workflow, asl: readFileSync(workflow.definition, "utf8") }));

describe.each(allWorkflows)("workflow $name", ({ name, workflow, asl }) => {
  test("every Task sets TimeoutSeconds or TimeoutSecondsPath (without one, AWS waits up to a year)", () => {
    expect(tasksWithoutTimeout(asl)).toEqual([]);
  });

  test("its ASL names exactly its manifest tasks as placeholders, and runs locally", () => {
    expect(workflowPlaceholders(asl).sort()).toEqual(Object.keys(workflow.tasks).sort());
    const compiled = compileWorkflow(name, asl, Object.keys(workflow.tasks));
    expect(new Set([...compiled.tasks.values()].map((binding) => binding.task))).toEqual(
      new Set(Object.keys(workflow.tasks)),
    );
  });
});

describe("the local runner refuses, naming the state", () => {
  /** `${Name}`, as the ASL writes a task. */
  const placeholder = (name: string) => `\${${name}}`;
  const machine = (states: Record<string, unknown>) =>
    JSON.stringify({ StartAt: Object.keys(states)[0], States: states });
  const invoke = (extra: Record<string, unknown> = {}) => ({
    Type: "Task",
    Resource: "arn:aws:states:::lambda:invoke",
    Parameters: { FunctionName: placeholder("Work"), "Payload.$": "$" },
    TimeoutSeconds: 10,
    End: true,
    ...extra,
  });
  const refusal = (asl: string) => {
    try {
      compileWorkflow("test", asl, ["Work"]);
    } catch (error) {
      expect(error).toBeInstanceOf(WorkflowDefinitionError);
      return (error as Error).message;
    }
    throw new Error("compiled");
  };

  test("a Task without a timeout, nested ones included", () => {
    const nested = machine({
      Both: {
        Type: "Parallel",
        Branches: [{ StartAt: "Inner", States: { Inner: invoke({ TimeoutSeconds: undefined }) } }],
        End: true,
      },
    });
    expect(tasksWithoutTimeout(nested)).toEqual(["Inner"]);
    expect(refusal(nested)).toMatch(/Task "Inner" sets neither TimeoutSeconds nor TimeoutSecondsPath/);
  });

  test("a Task that is not a Lambda invocation of a manifest task", () => {
    expect(refusal(machine({ Publish: invoke({ Resource: "arn:aws:states:::sns:publish" }) }))).toMatch(
      /Task "Publish": the local runner runs Lambda tasks only/,
    );
    const byArn = { FunctionName: "arn:aws:lambda:us-east-1:000000000000:function:work" };
    expect(refusal(machine({ Other: invoke({ Parameters: byArn }) }))).toMatch(
      /Task "Other": its function must be one of its manifest tasks/,
    );
  });

  test("a placeholder that is no task, even in a comment (the stack refuses it too)", () => {
    const commented = JSON.parse(machine({ Only: invoke() }));
    commented.Comment = `Tasks are named by ${placeholder("...")} placeholders`;
    expect(refusal(JSON.stringify(commented))).toMatch(/\$\{\.\.\.\} is not among its tasks/);
  });

  test("a .waitForTaskToken Task that never passes $$.Task.Token", () => {
    const waiting = invoke({ Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken" });
    expect(refusal(machine({ Wait: waiting }))).toMatch(
      /Task "Wait" waits for a task token but its Parameters never pass/,
    );
  });

  test("TimeoutSecondsPath with an InputPath (AWS reads the path from the state's input)", () => {
    const pathed = invoke({ TimeoutSeconds: undefined, TimeoutSecondsPath: "$.seconds", InputPath: "$.lead" });
    expect(refusal(machine({ Timed: pathed }))).toMatch(/Task "Timed": TimeoutSecondsPath and HeartbeatSecondsPath/);
  });

  test("an invalid definition, with the validator's reason", () => {
    expect(refusal(JSON.stringify({ StartAt: "Nowhere", States: {} }))).toMatch(/^Workflow test: /);
  });
});

describe("the environment of a function that starts a workflow", () => {
  test("has the state machine's ARN as <NAME>_WORKFLOW_ARN", () => {
    const resources = {
      tableName: "table",
      queueUrls: {} as never,
      domainEventTopicArn: "arn:aws:sns:us-east-1:000000000000:leadflow-domain-events",
      workflowArns: { "speed-to-lead": "arn:aws:states:us-east-1:000000000000:stateMachine:leadflow-speed-to-lead" },
    };
    expect(environmentNames.workflowArn("speed-to-lead")).toBe("SPEED_TO_LEAD_WORKFLOW_ARN");
    expect(environmentFor({ handler: "h.handler", startsWorkflows: ["speed-to-lead"] }, resources)).toEqual({
      SPEED_TO_LEAD_WORKFLOW_ARN: resources.workflowArns["speed-to-lead"],
    });
    // Answering needs only the task token.
    expect(environmentFor({ handler: "h.handler", answersWorkflows: ["speed-to-lead"] }, resources)).toEqual({});
  });
});
