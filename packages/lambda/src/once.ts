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
 * Like `once`, but built again when the config directory changes: `npm start` points it at a
 * checked copy of config/ after each edit. On AWS it never changes, so this is `once`.
 */
export function perConfig<T>(build: () => T): () => T {
  let configDir: string | undefined;
  let built = false;
  let value: T;
  return () => {
    const current = process.env[environmentNames.configDir];
    if (!built || current !== configDir) {
      value = build();
      configDir = current;
      built = true;
    }
    return value;
  };
}
