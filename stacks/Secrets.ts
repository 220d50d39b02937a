import { secretNames } from "@leadflow/manifest";
import { Config, type StackContext } from "sst/constructs";

/**
 * One SST `Config.Secret` per secret in the manifest. Values live in SSM Parameter Store
 * (`npx sst secrets set NAME value --stage <stage>`); each function is bound only to the ones it lists.
 */
export function Secrets({ stack }: StackContext) {
  const secrets = Config.Secret.create(stack, ...secretNames);
  return { secrets };
}
