/**
 * The loopback ports of local mode, the variables that move them, and the
 * one-line answer when one is taken: which port, which variable, and whether
 * another ModelGate is what holds it.
 */

/** Each server of `npm start` that listens on a fixed port by default. */
export const PORTS = {
  api: { name: 'API', variable: 'MODELGATE_PORT', fallback: 3000 },
  s3: { name: 'S3', variable: 'MODELGATE_S3_PORT', fallback: 4568 },
  sagemaker: { name: 'SageMaker Runtime', variable: 'MODELGATE_SAGEMAKER_PORT', fallback: 4570 },
  dynamodb: { name: 'DynamoDB', variable: 'MODELGATE_DYNAMODB_PORT', fallback: 4572 },
} as const;

export type PortRole = (typeof PORTS)[keyof typeof PORTS];

/** A port of local mode held by another process. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly role: PortRole,
    /** What answers there, e.g. "another ModelGate's API answers there". */
    readonly occupant: string,
  ) {
    super(
      `ModelGate cannot start: port ${port} (${role.name}) is in use and ${occupant}; ` +
        `stop it, or set ${role.variable} to a free port (0 picks one)`,
    );
    this.name = 'PortInUseError';
  }
}

/** The port a `MODELGATE_*_PORT` variable names, or its default. */
export function portFromEnv(env: NodeJS.ProcessEnv, role: PortRole): number {
  const raw = env[role.variable];
  if (raw === undefined || raw === '') return role.fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`${role.variable} must be a port number (0-65535), got '${raw}'`);
  }
  return value;
}

/** Runs `start`, turning a taken port into a {@link PortInUseError} that says what holds it. */
export async function claimPort<T>(role: PortRole, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new PortInUseError(port, role, await occupantOf(port));
  }
}

/**
 * Who answers on a loopback port, told by what each server of local mode
 * answers: the gateway's `GET /v2` names the server, s3rver lists buckets as
 * its dummy owner, the SageMaker emulator refuses `GET /` as SageMaker does.
 */
export async function occupantOf(port: number): Promise<string> {
  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  let answer: Awaited<ReturnType<typeof get>>;
  try {
    answer = await get('/v2');
  } catch {
    return 'no HTTP server answers there (another program holds it, not ModelGate)';
  }
  if (answer.status === 200 && /"name":"modelgate"/.test(answer.text)) {
    return "another ModelGate's API answers there";
  }
  const root = await get('/').catch(() => answer);
  if (root.text.includes('<DisplayName>S3rver</DisplayName>'))
    return "another ModelGate's S3 (s3rver) answers there";
  if (root.headers.get('x-amzn-errortype') === 'ValidationError' && root.text.includes('unknown operation')) {
    return "another ModelGate's SageMaker Runtime emulator answers there";
  }
  return `an HTTP server that is not ModelGate answers there (status ${root.status} on GET /)`;
}
