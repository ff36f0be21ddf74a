import { describe, expect, it } from "vitest";
import { loadGatewayEnv } from "../env.js";
import { findRoute, parseRoutes } from "./routes.js";

const smsc = { name: "s1", host: "127.0.0.1", port: 2776, systemId: "relay", password: "secretpw" };
const base = { KAFKA_BROKERS: "127.0.0.1:1", SMPP_ACCOUNTS: "a:pw:traffic:*" };

describe("relay routes: happy", () => {
  it("takes the first route whose accounts and destination ranges hold the message", () => {
    const routes = parseRoutes(
      JSON.stringify([
        { name: "a2p-mobile", accounts: ["a2p"], destinations: ["13*", "15*"], smscs: [smsc] },
        { name: "rest", smscs: [{ ...smsc, name: "s2", window: 5, bindMode: "transmitter" }] },
      ]),
      "RELAY_ROUTES",
    );
    expect(findRoute(routes, "a2p", "13900000001")?.name).toBe("a2p-mobile");
    expect(findRoute(routes, "a2p", "+8613900000001")?.name).toBe("a2p-mobile");
    expect(findRoute(routes, "mo", "13900000001")?.name).toBe("rest");
    expect(routes[1]!.smscs[0]).toMatchObject({ window: 5, bindMode: "transmitter", throughputPerSec: 1_000 });
    expect(routes[0]!.smscs[0]).toMatchObject({ window: 50, bindMode: "transceiver", receiver: false });
  });

  it("takes a transmitter bind with a receiver bind beside it (receipts through a transmitter-only SMSC)", () => {
    const routes = parseRoutes(JSON.stringify([{ name: "tx", smscs: [{ ...smsc, bindMode: "transmitter", receiver: true }] }]), "RELAY_ROUTES");
    expect(routes[0]!.smscs[0]).toMatchObject({ bindMode: "transmitter", receiver: true });
  });

  it("finds no route when none holds the message", () => {
    const routes = parseRoutes(JSON.stringify([{ name: "only", accounts: ["a2p"], smscs: [smsc] }]), "RELAY_ROUTES");
    expect(findRoute(routes, "mo", "13900000001")).toBeNull();
  });
});

describe("relay routes: errors fail fast at start", () => {
  it("refuses relay mode without routes", () => {
    expect(() => loadGatewayEnv({ ...base, RELAY_ENABLED: "true" })).toThrow(/RELAY_ROUTES/);
  });

  it("names the route and the rule for bad routes", () => {
    expect(() => parseRoutes("not json", "RELAY_ROUTES")).toThrow(/RELAY_ROUTES: not JSON/);
    expect(() => parseRoutes(JSON.stringify([{ name: "r", smscs: [] }]), "RELAY_ROUTES")).toThrow(/0\.smscs/);
    expect(() => parseRoutes(JSON.stringify([{ name: "r", destinations: ["13[0-9]"], smscs: [smsc] }]), "RELAY_ROUTES")).toThrow(/route "r": destinations/);
    expect(() => parseRoutes(JSON.stringify([{ name: "r", smscs: [smsc] }, { name: "r", smscs: [smsc] }]), "RELAY_ROUTES")).toThrow(/declared twice/);
    // A transceiver receives already: a second bind beside it would split the receipts.
    expect(() => parseRoutes(JSON.stringify([{ name: "r", smscs: [{ ...smsc, receiver: true }] }]), "RELAY_ROUTES")).toThrow(/receiver.*transmitter/);
    expect(() => loadGatewayEnv({ ...base, RELAY_ENABLED: "true", RELAY_ROUTES: JSON.stringify([{ name: "r", smscs: [{ ...smsc, port: 0 }] }]) })).toThrow(/port/);
  });
});

describe("relay routes: security", () => {
  it("never echoes a downstream password in an error", () => {
    const bad = JSON.stringify([{ name: "r", smscs: [{ ...smsc, password: "toolongpassword" }] }]);
    let message = "";
    try {
      parseRoutes(bad, "RELAY_ROUTES");
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/password/);
    expect(message).not.toContain("toolongpassword");
  });
});
