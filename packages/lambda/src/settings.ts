import { developmentSecrets, environmentNames } from "@leadflow/manifest";
import { logger } from "./logger.ts";

/** Missing or broken deployment configuration: our fault, never the client's (a 500). */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}

/** Settings with a documented default (docs/configuration.md). */
const defaults = {
  META_GRAPH_URL: "https://graph.facebook.com/v25.0",
  LEADFLOW_CONFIG_DIR: "config",
  /** Multiplies speed-to-lead's accept times and holds: npm start -- --fast sets 1/60. */
  WORKFLOW_TIME_SCALE: "1",
  /** Where nurture takes a lead to be when nothing about it gives a time zone. */
  NURTURE_ACCOUNT_TIMEZONE: "UTC",
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
 * SST sets `SST_APP` and binds each secret the function is granted. Outside `npm start` a secret
 * that is empty or holds a public development value fails the cold start: a deployed stage must
 * never accept what anyone can read in this repository.
 */
export async function loadSecrets<const Names extends readonly string[]>(
  names: Names,
): Promise<Record<Names[number], string>> {
  const bound: Record<string, string | undefined> = process.env.SST_APP ? await sstSecrets(names) : {};
  const secrets = {} as Record<Names[number], string>;
  for (const name of names as readonly Names[number][]) {
    const value = process.env[name] || bound[name];
    if (!value) throw refuse(`Secret ${name} is not set (see docs/configuration.md)`, name);
    if (!isLocalRuntime() && secretList(value).some((item) => publicValues.has(item))) {
      throw refuse(
        `Secret ${name} holds the public development value: set a secret of your own ` +
          `(npx sst secrets set ${name} <value> --stage <stage>; see docs/configuration.md)`,
        name,
      );
    }
    secrets[name] = value;
  }
  return secrets;
}

const publicValues = new Set(Object.values(developmentSecrets).flatMap(secretList));

function isLocalRuntime(): boolean {
  return process.env[environmentNames.runtime] === "local";
}

function refuse(message: string, secret: string): ConfigurationError {
  logger.error(`Refusing to start: ${message}`, { secret });
  return new ConfigurationError(message);
}

async function sstSecrets(names: readonly string[]): Promise<Record<string, string | undefined>> {
  const { Config } = await import("sst/node/config");
  const bound = Config as unknown as Record<string, string | undefined>;
  return Object.fromEntries(names.map((name) => [name, bound[name]]));
}

/** Secrets that may hold several values while one is rotated, separated by spaces or commas. */
export function secretList(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}
