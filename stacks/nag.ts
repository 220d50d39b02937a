import type { FunctionDefinition, RouteKey } from "@leadflow/manifest";
import { CfnRoute } from "aws-cdk-lib/aws-apigatewayv2";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import type { App as CdkApp, CfnElement } from "aws-cdk-lib/core";
import { NagSuppressions } from "cdk-nag";
import type { IConstruct } from "constructs";
import { type Api, type Function as LambdaFunction, Stack, type Table } from "sst/constructs";

/**
 * Every cdk-nag (AwsSolutions) finding we accept, next to the resource it is about, with the reason.
 * `tests/infra/stack.test.ts` fails on any finding not listed here; docs/deploy.md keeps the table.
 */

const basicExecutionRole = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

/** How each public route is authorized, since API Gateway does not do it (AwsSolutions-APIG4). */
const routeAuthorization: Record<RouteKey, string> = {
  "GET /health": "Public liveness probe: answers a constant and reads nothing.",
  "POST /webhooks/{source}":
    "Called by forms and ad platforms, which cannot sign AWS requests: the handler verifies each source's " +
    "signature or key (FORM_SIGNING_SECRET or the source's own signing secret, META_APP_SECRET, " +
    "GOOGLE_ADS_WEBHOOK_KEY) and answers 401 otherwise.",
  "GET /webhooks/{source}":
    "Meta's subscription handshake: the handler echoes hub.challenge only when hub.verify_token matches META_VERIFY_TOKEN.",
  "GET /leads": "Admin route: the handler requires the x-api-key header to match ADMIN_API_KEY (constant-time) first.",
  "GET /leads/{id}":
    "Admin route: the handler requires the x-api-key header to match ADMIN_API_KEY (constant-time) first.",
  "POST /leads/{id}/events":
    "Called by site tracking and the CRM: the handler requires the x-api-key header to match EVENTS_API_KEY (a " +
    "write-only key) or ADMIN_API_KEY (constant-time) first.",
  "GET /alerts/{token}":
    "A rep's alert page: the unguessable token in the link (32 random bytes) is the credential, single use, " +
    "superseded when the lead moves on and expiring with the accept time; any other token answers 410.",
  "POST /alerts/{token}":
    "A rep's accept or decline from the alert page: the token in the link is the credential (as for GET), and " +
    "the answer is taken only while the alert waits, by a conditional write.",
  "POST /webhooks/sms-inbound":
    "End User Messaging's inbound SMS, delivered by an SNS HTTPS subscription: the handler verifies the SNS " +
    "message signature (the signing certificate from sns.amazonaws.com) and the topic before acting on it.",
  "GET /unsubscribe/{token}":
    "A nurture email's unsubscribe link: the unguessable token in it (128 random bits) is the credential; " +
    "the page only shows the address masked and changes nothing.",
  "POST /unsubscribe/{token}":
    "RFC 8058 one-click unsubscribe from a mail client or the page: the token in the link is the credential, " +
    "and all it can do is unsubscribe the address it was sent to.",
  "GET /reports/speed-to-lead":
    "Admin route: the handler requires the x-api-key header to match ADMIN_API_KEY (constant-time) first.",
};

/** A manifest function: its role and policy as built by `functionProps`. */
export function suppressFunctionFindings(
  fn: LambdaFunction,
  definition: FunctionDefinition<string>,
  table: Table,
): void {
  const role = fn.role;
  if (!role) return;
  NagSuppressions.addResourceSuppressions(role, [
    {
      id: "AwsSolutions-IAM4",
      reason:
        "AWSLambdaBasicExecutionRole, which CDK gives every function role, only lets the function write its own " +
        "CloudWatch logs (logs:CreateLogGroup/CreateLogStream/PutLogEvents).",
      appliesTo: [basicExecutionRole],
    },
  ]);
  const policy = role.node.tryFindChild("DefaultPolicy");
  if (!policy) return;
  NagSuppressions.addResourceSuppressions(policy, [
    {
      id: "AwsSolutions-IAM5",
      reason:
        "Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level " +
        "permissions, so their resource is '*'. The test checks no other action has a '*' resource.",
      appliesTo: ["Resource::*"],
    },
    ...(definition.table
      ? [
          {
            id: "AwsSolutions-IAM5",
            reason:
              "The table grant covers the table's own global secondary indexes (<table arn>/index/*) so the " +
              "function can Query gsi1/gsi2; the wildcard is the index name within this one table.",
            appliesTo: [`Resource::<${logicalIdOf(table)}.Arn>/index/*`],
          },
        ]
      : []),
  ]);
}

/** A workflow's state machine (stacks/Workflows.ts): the policy CDK gives its role for logs and traces. */
export function suppressWorkflowFindings(stateMachine: StateMachine): void {
  const policy = stateMachine.role.node.tryFindChild("DefaultPolicy");
  if (!policy) return;
  NagSuppressions.addResourceSuppressions(policy, [
    {
      id: "AwsSolutions-IAM5",
      reason:
        "Logging to CloudWatch Logs goes through log delivery (logs:CreateLogDelivery, GetLogDelivery, " +
        "UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, " +
        "DescribeLogGroups) and tracing through X-Ray (xray:PutTraceSegments, PutTelemetryRecords, " +
        "GetSamplingRules, GetSamplingTargets): none supports resource-level permissions, so their resource is " +
        "'*'. The test checks no other action has a '*' resource; lambda:InvokeFunction names each task function.",
      appliesTo: ["Resource::*"],
    },
  ]);
}

/** Each route of the HTTP API, with how its handler authorizes the caller. */
export function suppressApiFindings(api: Api): void {
  for (const child of api.node.findAll()) {
    if (!(child instanceof CfnRoute)) continue;
    const reason = routeAuthorization[child.routeKey as RouteKey];
    if (!reason) throw new Error(`Say how route "${child.routeKey}" is authorized in stacks/nag.ts`);
    NagSuppressions.addResourceSuppressions(child, [{ id: "AwsSolutions-APIG4", reason }]);
  }
}

/** SST's own custom-resource function, which it adds to every stack. */
export function suppressSstFindings(app: CdkApp): void {
  for (const stack of app.node.children) {
    if (!(stack instanceof Stack)) continue;
    const handler: IConstruct = stack.customResourceHandler;
    NagSuppressions.addResourceSuppressions(handler, [
      {
        id: "AwsSolutions-L1",
        reason:
          "SST's custom-resource handler (CustomResourceHandler), created by SST in every stack with a runtime SST " +
          "pins (nodejs22.x, supported); our functions run nodejs24.x.",
      },
    ]);
    const role = stack.customResourceHandler.role;
    if (role) {
      NagSuppressions.addResourceSuppressions(role, [
        {
          id: "AwsSolutions-IAM4",
          reason:
            "The role of SST's custom-resource handler, created by SST in every stack; AWSLambdaBasicExecutionRole " +
            "only lets it write its own CloudWatch logs.",
          appliesTo: [basicExecutionRole],
        },
      ]);
    }
  }
}

function logicalIdOf(table: Table): string {
  return Stack.of(table).getLogicalId(table.cdk.table.node.defaultChild as CfnElement);
}
