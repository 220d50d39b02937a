import { AsyncLocalStorage } from "node:async_hooks";
import { keepSingletonsPer } from "@leadflow/lambda";
import {
  type ConsumerDefinition,
  commonSettings,
  developmentSecrets,
  environmentFor,
  environmentNames,
  type FunctionDefinition,
  type ResourceLocations,
  type SecretName,
  sourceSecretPattern,
} from "@leadflow/manifest";
import { localRegion } from "./development.ts";
import { localCredentials } from "./emulators.ts";
import { type LambdaHandler, loadHandler } from "./lambda-runtime.ts";

/**
 * Each local handler sees only the environment its manifest entry gives it, as its own Lambda
 * function would, although the handlers of a process share it (docs/decisions.md, "Handler
 * environments"). While code runs for a handler (`runAs`), `process.env` is a view of that
 * handler's variables: a name its entry does not list reads as undefined, and is noted. Outside
 * handlers it is the process's own environment.
 */
export interface HandlerEnvironment {
  /** The manifest entry: a route key, `consumer <name>` or `schedule <name>`. */
  readonly name: string;
  readonly variables: Record<string, string>;
  /** Settings its entry lists that have no value here: undefined to it, as on Lambda, but not unlisted. */
  readonly unset: ReadonlySet<string>;
  /** Names the handler read that its environment does not hold (undefined to it). */
  readonly unlisted: Set<string>;
}

/** What a handler read outside its environment, and how often it ran. */
export interface HandlerEnvironmentReport {
  invocations: number;
  unlisted: string[];
}

const running = new AsyncLocalStorage<HandlerEnvironment>();
let isolating = false;

/**
 * Makes `process.env` per handler, and the `once` / `perConfig` singletons of packages/lambda
 * per handler too (an SDK client built from one handler's environment is never another's).
 * Called once per process, before any handler is loaded; outside handlers nothing changes.
 */
export function isolateHandlerEnvironments(): void {
  if (isolating) return;
  isolating = true;
  process.env = new Proxy(process.env, {
    get: (own, name) => (typeof name === "string" ? read(name, own) : Reflect.get(own, name)),
    has: (own, name) => (typeof name === "string" ? read(name, own) !== undefined : Reflect.has(own, name)),
    set(own, name, value) {
      const handler = running.getStore();
      if (!handler || typeof name !== "string") return Reflect.set(own, name, value);
      handler.variables[name] = String(value);
      return true;
    },
    deleteProperty(own, name) {
      const handler = running.getStore();
      if (!handler || typeof name !== "string") return Reflect.deleteProperty(own, name);
      delete handler.variables[name];
      return true;
    },
    ownKeys: (own) => Reflect.ownKeys(running.getStore()?.variables ?? own),
    getOwnPropertyDescriptor(own, name) {
      const handler = running.getStore();
      if (!handler || typeof name !== "string") return Reflect.getOwnPropertyDescriptor(own, name);
      if (!Object.hasOwn(handler.variables, name)) return undefined;
      return { value: handler.variables[name], writable: true, enumerable: true, configurable: true };
    },
  });
  keepSingletonsPer(() => running.getStore());
}

function read(name: string, own: NodeJS.ProcessEnv): string | undefined {
  const handler = running.getStore();
  if (!handler) return own[name];
  if (Object.hasOwn(handler.variables, name)) return handler.variables[name];
  if (!handler.unset.has(name)) handler.unlisted.add(name);
  return undefined;
}

/** Runs `work` (and everything it starts) as the handler: in its environment, with its singletons. */
export function runAs<T>(handler: HandlerEnvironment, work: () => T): T {
  return running.run(handler, work);
}

/** The handlers a process runs, each in its own environment. */
export function isolatedHandlers() {
  isolateHandlerEnvironments();
  const loaded: { environment: HandlerEnvironment; invocations: number }[] = [];
  return {
    /**
     * Imports the handler as its own function's cold start would: in its environment, and as a
     * module instance of its own (two entries may share a file). It is invoked there too.
     */
    async load(
      name: string,
      handlerPath: string,
      variables: Record<string, string>,
      settings: readonly string[] = [],
    ): Promise<LambdaHandler> {
      const unset = new Set(settings.filter((setting) => !Object.hasOwn(variables, setting)));
      const environment: HandlerEnvironment = { name, variables: { ...variables }, unset, unlisted: new Set() };
      const counted = { environment, invocations: 0 };
      loaded.push(counted);
      const handler = await runAs(environment, () => loadHandler(handlerPath, name));
      return (event, context) => {
        counted.invocations++;
        return runAs(environment, () => handler(event, context));
      };
    },
    /** Sets a variable for every handler, e.g. LEADFLOW_CONFIG_DIR after an edit to config/. */
    setEverywhere(name: string, value: string): void {
      for (const { environment } of loaded) environment.variables[name] = value;
    },
    /** Per handler (by manifest entry), what it read that its environment does not hold. */
    report(): Record<string, HandlerEnvironmentReport> {
      return Object.fromEntries(
        loaded.map(({ environment, invocations }) => [
          environment.name,
          { invocations, unlisted: [...environment.unlisted].sort() },
        ]),
      );
    },
  };
}

export type IsolatedHandlers = ReturnType<typeof isolatedHandlers>;

export interface LocalEnvironmentContext {
  resources: ResourceLocations;
  /**
   * What every local handler gets, standing in for what Lambda and the stack give every function:
   * LEADFLOW_RUNTIME, LEADFLOW_CONFIG_DIR, the region, fake credentials and the emulators' endpoints.
   */
  runtime: Readonly<Record<string, string>>;
  /** Where the values of secrets and settings come from: the shell, `.env`, the stack's options. */
  values: Readonly<Record<string, string | undefined>>;
  /** Retry delays are scaled by this (`--fast`). */
  timeScale: number;
}

/**
 * The environment of one manifest function under `npm start`: what the stack gives it on AWS
 * (`environmentFor`, its secrets, its settings and the common ones when set) plus `runtime`.
 */
export function localEnvironmentFor(
  definition: FunctionDefinition<string> | ConsumerDefinition,
  { resources, runtime, values, timeScale }: LocalEnvironmentContext,
): Record<string, string> {
  const environment: Record<string, string> = { ...runtime, ...environmentFor(definition, resources) };
  if ("queue" in definition) {
    const scaled = Math.max(1, Math.round(definition.retryBaseSeconds * timeScale));
    environment[environmentNames.retryBaseSeconds] = String(scaled);
  }
  for (const name of definition.secrets ?? [])
    environment[name] = values[name] || developmentSecrets[name as SecretName];
  if (definition.sourceSecrets) {
    for (const [name, value] of Object.entries(values))
      if (sourceSecretPattern.test(name) && value) environment[name] = value;
  }
  for (const name of settingsOf(definition)) {
    const value = values[name];
    if (value) environment[name] = value;
  }
  return environment;
}

/** The settings a function reads when they are set: the common ones and its entry's own. */
export function settingsOf(definition: FunctionDefinition<string>): string[] {
  return [...commonSettings, ...(definition.settings ?? [])];
}

/**
 * What every local handler has besides its manifest entry's environment: what Lambda and the
 * stack give every function (region, credentials; the endpoints are unset on AWS).
 */
export function localRuntimeEnvironment(
  endpoints: { sqs: string; dynamodb: string; sesv2: string; sms: string; sfn: string },
  configDir: string,
): Record<string, string> {
  return {
    [environmentNames.runtime]: "local",
    [environmentNames.configDir]: configDir,
    AWS_REGION: localRegion,
    AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SNS: endpoints.sqs,
    AWS_ENDPOINT_URL_SESV2: endpoints.sesv2,
    AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: endpoints.sms,
    AWS_ENDPOINT_URL_SFN: endpoints.sfn,
  };
}
