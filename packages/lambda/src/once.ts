import { environmentNames } from "@leadflow/manifest";

/** Builds a value on first call and returns the same one afterwards. */
export function once<T>(build: () => T): () => T {
  let built = false;
  let value: T;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value;
  };
}

/**
 * Like `once`, but built again after the config generation changes: `npm start` bumps it when a
 * config file is edited. On AWS it is never set, so this is `once`.
 */
export function perConfig<T>(build: () => T): () => T {
  let generation: string | undefined;
  let built = false;
  let value: T;
  return () => {
    const current = process.env[environmentNames.configGeneration];
    if (!built || current !== generation) {
      value = build();
      generation = current;
      built = true;
    }
    return value;
  };
}
