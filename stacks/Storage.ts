import { keyFieldNames, tableDefinition } from "@leadflow/store/table";
import { type StackContext, Table } from "sst/constructs";

/** The one DynamoDB table, keys and indexes taken from the definition the local runtime also uses. */
export function Storage({ stack }: StackContext) {
  const { partitionKey, sortKey, globalIndexes } = tableDefinition;
  const indexes = Object.entries(globalIndexes);
  const keyFields = keyFieldNames();

  const table = new Table(stack, "table", {
    fields: Object.fromEntries(keyFields.map((field) => [field, "string"])),
    primaryIndex: { partitionKey, sortKey },
    globalIndexes: Object.fromEntries(
      indexes.map(([name, index]) => [
        name,
        { partitionKey: index.partitionKey, sortKey: index.sortKey, projection: "all" },
      ]),
    ),
    cdk: {
      table: {
        // SST sets the deprecated `pointInTimeRecovery`; CDK refuses it next to the specification.
        pointInTimeRecovery: undefined,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      },
    },
  });

  stack.addOutputs({ TableName: table.tableName });
  return { table };
}
