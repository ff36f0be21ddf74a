/** One CLI sub-command. Each lives in its own file under commands/ and is listed in main.ts. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Returns the process exit code. */
  run(argv: readonly string[], io: CommandIo): Promise<number>;
}

/** Bad arguments: main prints the message and the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
