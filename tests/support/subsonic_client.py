"""Drives sharelog's Subsonic share endpoints with a real client library, py-sonic (libsonic).

Run with the test harness venv's python (tests/subsonic_client.rs installs py-sonic there):
    python subsonic_client.py BASE_URL PORT ALBUM_ID OTHER_USERS_SHARE_ID
Checks each step and prints one JSON line with what the Rust side checks next (ids, urls).
Passwords go as `p=enc:HEX` (legacyAuth): the test upstream, supysonic, has no token auth.
"""

import json
import sys
import time

import libsonic
from libsonic import errors


def connect(base, port, user, password):
    return libsonic.Connection(
        base, user, password, port=port, serverPath="rest", legacyAuth=True
    )


def shares_of(conn):
    res = conn.getShares()
    return res.get("shares", {}).get("share", [])


def expect_error(exc_type, call, *args):
    try:
        call(*args)
    except exc_type as e:
        return str(e)
    raise AssertionError(f"{call.__name__} did not raise {exc_type.__name__}")


def main():
    base, port, album_id, others_share = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    alice = connect(base, port, "alice", "alicepass")
    report = {}

    # create a share of an album
    created = alice.createShare([album_id], description="from py-sonic")["shares"]["share"]
    assert len(created) == 1, created
    share = created[0]
    assert share["username"] == "alice", share
    assert share["description"] == "from py-sonic", share
    assert share["visitCount"] == 0, share
    assert [e["id"] for e in share["entry"]] == [album_id], share
    report["id"] = share["id"]
    report["url"] = share["url"]

    # list it
    listed = [s for s in shares_of(alice) if s["id"] == share["id"]]
    assert len(listed) == 1, listed

    # update its description and expiry (py-sonic takes seconds and sends milliseconds)
    expires = int(time.time()) + 3600
    alice.updateShare(share["id"], description="updated by py-sonic")
    # py-sonic 1.2.0's updateShare keys the expiry by its value (`{expires: ...}` instead of
    # `{'expires': ...}`), so the expiry goes through libsonic's own request builder instead.
    res = alice._doInfoReq(
        alice._getRequest("updateShare.view", {"id": share["id"], "expires": expires * 1000})
    )
    alice._checkStatus(res)
    updated = [s for s in shares_of(alice) if s["id"] == share["id"]][0]
    assert updated["description"] == "updated by py-sonic", updated
    assert "expires" in updated, updated
    report["expires"] = updated["expires"]
    report["expectedExpiresMs"] = expires * 1000

    # expires=0 removes the expiry; then it is set again for the owner API to see
    for ms in (0, expires * 1000):
        alice._checkStatus(
            alice._doInfoReq(
                alice._getRequest("updateShare.view", {"id": share["id"], "expires": ms})
            )
        )
        again = [s for s in shares_of(alice) if s["id"] == share["id"]][0]
        assert ("expires" in again) == (ms != 0), again

    # delete another one
    doomed = alice.createShare([album_id], description="to delete")["shares"]["share"][0]
    alice.deleteShare(doomed["id"])
    assert doomed["id"] not in [s["id"] for s in shares_of(alice)]
    report["deleted"] = doomed["id"]
    expect_error(errors.DataNotFoundError, alice.deleteShare, doomed["id"])

    # wrong credentials: code 40
    intruder = connect(base, port, "alice", "not-her-password")
    report["wrongPassword"] = expect_error(errors.CredentialError, intruder.getShares)

    # another user's share: code 70, as if it did not exist
    assert others_share not in [s["id"] for s in shares_of(alice)]
    expect_error(errors.DataNotFoundError, alice.updateShare, others_share, "mine now")
    expect_error(errors.DataNotFoundError, alice.deleteShare, others_share)

    # a missing parameter: code 10
    expect_error(errors.ParameterError, alice.deleteShare, "")

    print(json.dumps(report))


if __name__ == "__main__":
    main()
