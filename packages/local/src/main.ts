/** `npm start`: leadflow on this machine, against in-process emulators, with no AWS account. */
import { parseArgs } from "node:util";
import { ConfigError } from "@leadflow/core";
import { routes, workflows } from "@leadflow/manifest";
import { configDirOption } from "./config-files.ts";
import { developmentSecrets, loadDotEnv } from "./development.ts";
import { startLocalStack } from "./stack.ts";

const usage = `Usage: npm start -- [--port N] [--data DIR] [--config DIR] [--fast]

  --port N       HTTP port (default: PORT or 3000)
  --data DIR     keep the table, queues and sent messages in DIR across restarts (default: in memory)
  --config DIR   read the config from DIR, each file or folder it lacks from config/ (default: LEADFLOW_CONFIG_DIR or config/)
  --fast         shorten retry delays (÷30) and workflow waits and accept times (÷60) so they play out in seconds (also LEADFLOW_FAST=1)
`;

loadDotEnv();
const { values } = parseArgs({
  options: {
    port: { type: "string" },
    data: { type: "string" },
    config: { type: "string" },
    fast: { type: "boolean", default: process.env.LEADFLOW_FAST === "1" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const usingDevelopmentKey = !process.env.ADMIN_API_KEY;
const configDir = configDirOption(values.config);
const stack = await startLocalStack({
  ...(configDir ? { configDir } : {}),
  ...(values.port ? { port: Number(values.port) } : {}),
  ...(values.data ? { dataDir: values.data } : {}),
  fast: values.fast,
  onConfigChange(change) {
    if ("mistakes" in change)
      console.error(`config/ has mistakes; still using the previous config:\n${change.mistakes.message}`);
    else
      console.log(
        `config/ changed: now scoring with ${change.scoringVersion}; run npm run rescore to re-score every lead`,
      );
  },
}).catch((error: Error) => {
  console.error(error instanceof ConfigError ? `The config has mistakes:\n${error.message}` : error);
  process.exit(1);
});

console.log(`
leadflow is running on this machine

  API         ${stack.url}
${Object.keys(routes)
  .map((route) => `              ${route}`)
  .join("\n")}

  Schedules   ${stack.schedules
    .list()
    .map(({ name, schedule }) => `${name} ${schedule}`)
    .join("\n              ")}
              (on the local clock${values.fast ? ", its waits ÷30" : ""}: GET ${stack.url}/_local/schedules;
              run one now: npm run trigger -- <name>; POST ${stack.url}/_local/clock {"advance":"P3D"})

  Messages    GET ${stack.url}/_local/messages  (every email and SMS sent, oldest first)
              POST ${stack.url}/_local/messages/outage  {"channel":"sms","on":true} makes SMS sends fail
  Email inbox ${stack.emailInbox}  (aws-ses-v2-local's web inbox)
  Links       ${stack.publicUrl}  (PUBLIC_URL: the base of links in messages)

  Local tools POST ${stack.url}/_local/redrive  (dead-letter queues back to their queues)
              POST ${stack.url}/_local/ses-events  (SES bounce, complaint, open, click JSON, as SNS would deliver it)${
                stack.metaGraphStandIn ? `\n              ${stack.metaGraphStandIn}  (Meta Graph API stand-in)` : ""
              }

  DynamoDB    ${stack.endpoints.dynamodb}  (table "${stack.tableName}")
  SQS         ${stack.endpoints.sqs}  (${Object.keys(stack.queues).join(", ")} + DLQs)
  SES / SMS   ${stack.endpoints.ses} / ${stack.endpoints.sms}
  Workflows   ${Object.keys(workflows).join(", ") || "none"}  (Step Functions API ${stack.endpoints.stepFunctions}; executions in memory)
  Config      ${configDir ? `${configDir}, with config/ for each file or folder it lacks` : "config/"} (edits apply to the next request; mistakes keep the previous config)
  Data        ${values.data ? `kept in ${values.data} (the email inbox page itself starts empty)` : "in memory (use --data DIR to keep it)"}${values.fast ? "\n  Mode        fast retries" : ""}
  Admin key   ${usingDevelopmentKey ? `${developmentSecrets.ADMIN_API_KEY} (development default; set ADMIN_API_KEY to change)` : "from ADMIN_API_KEY"}
  Events key  ${process.env.EVENTS_API_KEY ? "from EVENTS_API_KEY" : `${developmentSecrets.EVENTS_API_KEY} (write-only: POST /leads/{id}/events)`}

Press Ctrl-C to stop.
`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) process.exit(1);
  stopping = true;
  console.log(`\n${signal}: stopping (finishing the batches under way)…`);
  const { unprocessed } = await stack.stop();
  if (unprocessed > 0) {
    console.log(
      values.data
        ? `${unprocessed} queued messages are kept in ${values.data} and will be processed at the next start.`
        : `${unprocessed} queued messages are dropped with the in-memory queue (use --data DIR to keep them).`,
    );
  }
  console.log("stopped.");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
void stack.failed.then((error) => {
  console.error(`\n${error.message}`);
  process.exit(1);
});
process.on("SIGTERM", () => void shutdown("SIGTERM"));
