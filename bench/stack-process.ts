import { type ChildProcess, spawn } from "node:child_process";

/** Starts a server process and resolves with its output once `ready` matches a line. */
export function startProcess(args: string[], ready: RegExp, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  return new Promise<{ child: ChildProcess; output: () => string }>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolve({ child, output: () => output });
    });
  });
}

/** Stops a process the way Ctrl-C does, and resolves once it has exited. */
export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners("exit");
    child.once("exit", () => resolve());
    child.kill("SIGINT");
  });
}

/** `npm start` (packages/local/src/main.ts) in a process of its own, on a random port. */
export async function startStackProcess(options: string[] = []) {
  const port = String(3300 + Math.floor(Math.random() * 500));
  const started = await startProcess(["packages/local/src/main.ts", "--port", port, ...options], /Press Ctrl-C/);
  const banner = started.output();
  const endpoint = (label: RegExp) => label.exec(banner)?.[1] as string;
  return {
    ...started,
    origin: `http://127.0.0.1:${port}`,
    /** The emulators' endpoints, as the banner names them. */
    endpoints: {
      dynamodb: endpoint(/DynamoDB\s+(http:\S+)/),
      sqs: endpoint(/SQS\s+(http:\S+)/),
      stepFunctions: endpoint(/Step Functions API (http:\S+?);/),
    },
  };
}
