import pg from "pg";

/**
 * A pool whose idle-client errors (server restart, admin termination) are
 * reported instead of crashing the process: the pool replaces the client.
 */
export function createPool(url: string, max: number, onError: (err: Error) => void = () => undefined): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000 });
  pool.on("error", onError);
  return pool;
}

export { pg };
