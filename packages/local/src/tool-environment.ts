/**
 * Where command-line tools find the table and queues: on AWS (or any endpoint) when TABLE_NAME is
 * set in the shell, otherwise from the `npm start` stack running at LEADFLOW_URL.
 */
export function localStackUrl(): string {
  return process.env.LEADFLOW_URL ?? `http://localhost:${process.env.PORT || 3000}`;
}

export async function useStackEnvironment(): Promise<string> {
  if (process.env.TABLE_NAME) return `table ${process.env.TABLE_NAME}`;
  const url = localStackUrl();
  let response: Response;
  try {
    response = await fetch(`${url}/_local/environment`);
  } catch {
    throw new Error(
      `No leadflow at ${url}: start it with \`npm start\` (or set LEADFLOW_URL), or set TABLE_NAME and ` +
        "DOMAIN_EVENTS_TOPIC_ARN to work on a deployed stack (see docs/deploy.md).",
    );
  }
  if (!response.ok) throw new Error(`${url}/_local/environment answered ${response.status}`);
  Object.assign(process.env, (await response.json()) as Record<string, string>);
  return `the local stack at ${url}`;
}
