import pg from "pg";

// timestamptz → Date and bigint → string by default; counts are parsed by zod at each query.
export function createPool(url: string, max: number): pg.Pool {
  return new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000 });
}

export { pg };
