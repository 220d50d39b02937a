import { existsSync } from "node:fs";

export { developmentSecrets } from "@leadflow/manifest";

/** Reads `.env` from the working directory, when there is one, under what the shell already sets. */
export function loadDotEnv(file = ".env"): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

export const localRegion = "us-east-1";
export const localAccountId = "000000000000";
export const localTableName = "leadflow";
export const queueNamePrefix = "leadflow-";
