import { describe, expect, it } from "vitest";
import { checkSender, claimedSignature, senderKind } from "./sender.js";

describe("senderKind", () => {
  it.each([
    ["10086", "operator"],
    ["10010", "operator"],
    ["95588", "bank-service"],
    ["+8695555", "bank-service"],
    ["1065795555", "a2p"],
    ["106900001234", "a2p"],
    ["13812345678", "mobile"],
    ["+8613812345678", "mobile"],
    ["008613812345678", "mobile"],
    ["+447700900123", "international"],
    ["0044770090012", "international"],
    ["", "unknown"],
    ["ICBC", "other"],
    ["12306", "other"],
  ])("%s is %s", (sender, kind) => {
    expect(senderKind(sender)).toBe(kind);
  });
});

describe("checkSender", () => {
  const notice = "【招商银行】您尾号1234的账户12月5日消费56.00元。";
  it("reads the claimed signature at either end", () => {
    expect(claimedSignature(notice)).toBe("招商银行");
    expect(claimedSignature("您的验证码是1234【美团】")).toBe("美团");
    expect(claimedSignature("今天一起吃饭")).toBeNull();
  });
  it("calls a signature from a mobile or international number a spoof", () => {
    expect(checkSender("13912345678", notice).spoof).toMatch(/mobile/);
    expect(checkSender("+447700900123", notice).spoof).toMatch(/international/);
  });
  it("calls a registered signature from another service number a spoof, and accepts its own numbers", () => {
    expect(checkSender("95588", notice).spoof).toMatch(/registered to 95555/);
    expect(checkSender("95555", notice).spoof).toBeNull();
    expect(checkSender("1065795555", notice).spoof).toBeNull();
    // Brands send through many A2P codes: unchecked unless the registry lists the brand's A2P prefixes.
    expect(checkSender("1069012345", "【顺丰速运】您的快递已到达小区驿站，取件码 6-2-3018").spoof).toBeNull();
    expect(checkSender("1065812345", "【中国移动】您本月流量剩余2GB").spoof).toBeNull();
    expect(checkSender("1069012345", "【中国移动】您本月流量剩余2GB").spoof).toMatch(/registered/);
  });
  it("says the sender is registered only when the registry lists it for the signed brand", () => {
    expect(checkSender("95555", notice).registered).toBe(true);
    expect(checkSender("+8695555", notice).registered).toBe(true);
    expect(checkSender("1065795555", notice).registered).toBe(true); // an A2P code ending in its service number
    expect(checkSender("1065812345", "【中国移动】您本月流量剩余2GB").registered).toBe(true); // a listed A2P prefix
    // Not spoofed is not vouched for: an A2P code of a brand without listed prefixes, an unregistered brand.
    expect(checkSender("1069012345", "【顺丰速运】您的快递已到达小区驿站，取件码 6-2-3018")).toMatchObject({ spoof: null, registered: false });
    expect(checkSender("1069012345", "【悦享超市】会员日八折")).toMatchObject({ spoof: null, registered: false });
    expect(checkSender("95588", notice).registered).toBe(false);
    expect(checkSender("13912345678", notice).registered).toBe(false);
    expect(checkSender("", notice).registered).toBe(false);
  });
  it("accepts unregistered signatures from service and A2P numbers, and anything from an unknown sender", () => {
    expect(checkSender("1069012345", "【悦享超市】会员日八折").spoof).toBeNull();
    expect(checkSender("", notice).spoof).toBeNull();
    expect(checkSender("13912345678", "妈，我到家了").spoof).toBeNull();
  });
});
