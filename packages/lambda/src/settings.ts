import type { SecretName } from "@leadflow/manifest";

/** Missing or broken deployment configuration: our fault, never the client's (a 500). */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}

/** Settings with a documented default (docs/configuration.md). */
const defaults = {
  META_GRAPH_URL: "https://graph.facebook.com/v25.0",
  LEADFLOW_CONFIG_DIR: "config",
} as const;

export function setting(name: keyof typeof defaults): string {
  return process.env[name] || defaults[name];
}

export function requiredSetting(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigurationError(`${name} is not set in this function's environment`);
  return value;
}

/**
 * Secrets come from the environment locally and from SST `Config.Secret` (SSM) on AWS, where
 * SST sets `SST_APP` and binds each secret the function is granted.
 */
export async function loadSecrets<const Names extends readonly SecretName[]>(
  names: Names,
): Promise<Record<Names[number], string>> {
  const bound: Record<string, string | undefined> = process.env.SST_APP ? await sstSecrets(names) : {};
  const secrets = {} as Record<Names[number], string>;
  for (const name of names as readonly Names[number][]) {
    const value = process.env[name] || bound[name];
    if (!value) throw new ConfigurationError(`Secret ${name} is not set (see docs/configuration.md)`);
    secrets[name] = value;
  }
  return secrets;
}

async function sstSecrets(names: readonly string[]): Promise<Record<string, string | undefined>> {
  const { Config } = await import("sst/node/config");
  const bound = Config as unknown as Record<string, string | undefined>;
  return Object.fromEntries(names.map((name) => [name, bound[name]]));
}

/** `FORM_SIGNING_SECRET` may hold several secrets separated by spaces while one is rotated. */
export function secretList(value: string): string[] {
  return value.split(/\s+/).filter(Boolean);
}
