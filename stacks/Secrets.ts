import { loadSources, sourceSecretNames } from "@leadflow/channels";
import { secretNames } from "@leadflow/manifest";
import { Config, type StackContext } from "sst/constructs";

/**
 * One SST `Config.Secret` per secret in the manifest, and one per signing secret a form source of
 * config/sources.yaml names as its own (`signingSecret`). Values live in SSM Parameter Store
 * (`npx sst secrets set NAME value --stage <stage>`); each function is bound only to the ones it lists.
 */
export function Secrets({ stack }: StackContext) {
  const secrets = Config.Secret.create(stack, ...secretNames);
  const named = sourceSecretNames(loadSources("config"));
  const sourceSecrets = Object.values(named.length > 0 ? Config.Secret.create(stack, ...named) : {});
  return { secrets, sourceSecrets };
}
