"""Schemathesis hooks for the API contract test (test/contract/schemathesis.test.ts).

The fuzzer signs in once, as an admin. Requests that would end that session or
lock that account (a new password for it, ending its sessions, disabling it)
are aimed at another user instead, so the run keeps testing with a valid
session; the behaviour itself is covered by the route tests.

A new user's name is made unique (same length, same alphabet, so a valid name
stays valid and an invalid one invalid): otherwise most creations after the
first answer 409, which hides whether the body itself was accepted or refused.
"""
import itertools
import os
import re

import schemathesis

FUZZ_ADMIN = os.environ["FUZZ_ADMIN"]
FUZZ_SESSION_ID = os.environ["FUZZ_SESSION_ID"]
USERNAME = re.compile(r"^[a-z0-9_.-]{3,32}$")
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_serial = itertools.count(1)


def _unique(name: str) -> str:
    n, out = next(_serial), ""
    while n:
        n, d = divmod(n, len(DIGITS))
        out = DIGITS[d] + out
    return name if len(out) > len(name) else name[: len(name) - len(out)] + out


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    params = case.path_parameters or {}
    if params.get("username") == FUZZ_ADMIN:
        params["username"] = "fuzz-other"
    if params.get("id") == FUZZ_SESSION_ID:
        params["id"] = "00000000-0000-4000-8000-000000000000"
    body = case.body
    if case.method.upper() == "POST" and case.operation.path == "/api/admin/users" and isinstance(body, dict):
        name = body.get("username")
        if isinstance(name, str) and USERNAME.match(name):
            body["username"] = _unique(name)
