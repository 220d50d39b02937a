import { randomUUID } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ensureTable } from "@leadflow/local";

/** A fresh table per test file, created from the stack's own definition. */
export async function freshTable(client: DynamoDBClient): Promise<string> {
  const name = `leadflow-test-${randomUUID().slice(0, 8)}`;
  await ensureTable(client, name);
  return name;
}
