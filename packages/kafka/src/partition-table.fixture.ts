/**
 * Keys and the partitions they landed in with the previous Kafka client's default partitioner (version 2.2.4,
 * `Partitioners.DefaultPartitioner()`), computed once with the previous producer for 1, 3, 6, 12 and 16 partitions. Exported for
 * the real-broker test, which proves the producer still puts each key there.
 */
export const RECORDED_PARTITIONS: ReadonlyArray<readonly [key: string, p1: number, p3: number, p6: number, p12: number, p16: number]> = [
  ["13800138000", 0, 0, 0, 0, 0],
  ["+8613912345678", 0, 0, 0, 0, 8],
  ["8613700000001", 0, 2, 2, 2, 6],
  ["10690000123", 0, 1, 1, 1, 13],
  ["95588", 0, 1, 4, 4, 4],
  ["1065502100", 0, 0, 0, 0, 8],
  ["0", 0, 2, 2, 8, 4],
  ["", 0, 0, 3, 9, 9],
  ["case-7f3a9c2e-1d4b-4a8e-9f00-2b6c1d7e8a91", 0, 2, 5, 5, 9],
  ["01J9ZQ3X7K8M2N4P6R8T0V2W4Y", 0, 0, 3, 9, 5],
  ["sender:13800138000", 0, 0, 3, 3, 15],
  ["domain:customs-pay.xyz", 0, 1, 4, 4, 4],
  ["中国移动", 0, 1, 1, 1, 1],
  ["短信举报10086999", 0, 0, 0, 0, 12],
  ["ñandú-é", 0, 2, 5, 5, 9],
  ["😀📱", 0, 0, 0, 0, 0],
  ["a", 0, 1, 4, 4, 12],
  ["ab", 0, 2, 2, 2, 10],
  ["abc", 0, 0, 3, 3, 11],
  ["abcd", 0, 2, 2, 8, 4],
  ["abcde", 0, 1, 1, 1, 13],
];
export const PARTITION_COUNTS = [1, 3, 6, 12, 16] as const;
