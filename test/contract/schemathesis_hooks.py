"""Schemathesis hooks for the API contract test (test/contract/schemathesis.test.ts).

The fuzzer signs in once, as an admin. Requests that would end that session or
lock that account (a new password for it, ending its sessions, disabling it)
are aimed at another user instead, so the run keeps testing with a valid
session; the behaviour itself is covered by the route tests.
"""
import os

import schemathesis

FUZZ_ADMIN = os.environ["FUZZ_ADMIN"]
FUZZ_SESSION_ID = os.environ["FUZZ_SESSION_ID"]


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    params = case.path_parameters or {}
    if params.get("username") == FUZZ_ADMIN:
        params["username"] = "fuzz-other"
    if params.get("id") == FUZZ_SESSION_ID:
        params["id"] = "00000000-0000-4000-8000-000000000000"
