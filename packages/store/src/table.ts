import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

/**
 * The one DynamoDB table. Its key fields are generic (`pk`/`sk`, `gsiNpk`/`gsiNsk`): what goes
 * in them is decided by the entities in `entities.ts`, nowhere else. The stack and the local
 * runtime both create the table from this definition.
 */
export const tableDefinition = {
  partitionKey: "pk",
  sortKey: "sk",
  /**
   * Overloaded indexes, declared up front: DynamoDB adds one GSI per table update, so adding
   * several later would need several deploys. Entities project their access patterns onto them.
   */
  globalIndexes: {
    gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    gsi2: { partitionKey: "gsi2pk", sortKey: "gsi2sk" },
  },
} as const;

/**
 * The DynamoDB actions the store issues, per kind of access: what a function with table access is
 * granted, and no more. Reads are the admin API's (GetItem, Query for history); writers also read
 * in batches (identities, events), query a lead's events and the cooling index, put items
 * conditionally and clear a lead's published signals (UpdateItem).
 */
export const tableActions = {
  read: ["dynamodb:GetItem", "dynamodb:Query"],
  readwrite: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"],
} as const;

export function keyFieldNames(): string[] {
  const { partitionKey, sortKey, globalIndexes } = tableDefinition;
  return [
    partitionKey,
    sortKey,
    ...Object.values(globalIndexes).flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
}

export function createTableInput(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey, globalIndexes } = tableDefinition;
  const indexes = Object.entries(globalIndexes);
  const keyFields = keyFieldNames();
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: keyFields.map((name) => ({ AttributeName: name, AttributeType: "S" })),
    KeySchema: [
      { AttributeName: partitionKey, KeyType: "HASH" },
      { AttributeName: sortKey, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: indexes.map(([name, index]) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: "HASH" },
        { AttributeName: index.sortKey, KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    })),
  };
}
