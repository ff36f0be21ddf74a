import { describe, expect, it } from "vitest";
import { RECORDED_PARTITIONS, PARTITION_COUNTS } from "./partition-table.fixture.js";
import { murmur2, partitionForKey } from "./partitioner.js";

/** The Java client's own murmur2 test vectors (org.apache.kafka.common.utils.UtilsTest#testMurmur2). */
const JAVA_VECTORS: ReadonlyArray<readonly [Buffer, number]> = [
  [Buffer.from("21"), -973932308],
  [Buffer.from("foobar"), -790332482],
  [Buffer.from("a-little-bit-long-string"), -985981536],
  [Buffer.from("a-little-bit-longer-string"), -1486304829],
  [Buffer.from("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971],
  [Buffer.from([0x61, 0x62, 0x63]), 479470107],
];

describe("murmur2 partitioning", () => {
  it("hashes as the Java client's Utils.murmur2 (its own test vectors)", () => {
    for (const [data, hash] of JAVA_VECTORS) expect(murmur2(data), data.toString()).toBe(hash);
  });

  it("puts every key of the table in the partition the previous client's default partitioner put it", () => {
    for (const [key, ...expected] of RECORDED_PARTITIONS) {
      expect(PARTITION_COUNTS.map((n) => partitionForKey(key, n)), JSON.stringify(key)).toEqual(expected);
    }
  });

  it("the table means something: keys spread over the partitions", () => {
    expect(new Set(RECORDED_PARTITIONS.map((row) => row[5])).size).toBeGreaterThan(8);
  });

  it("refuses a partition count that is not a positive integer", () => {
    expect(() => partitionForKey("k", 0)).toThrow(RangeError);
    expect(() => partitionForKey("k", 1.5)).toThrow(RangeError);
  });
});
