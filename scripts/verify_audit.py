#!/usr/bin/env python3
"""Verify a sharelog audit export (JSON Lines) against its SHA-256 hash chain.

Implements the rules in docs/audit.md with the Python 3 standard library
only. The file is read line by line, so memory use does not grow with the
size of the export.

Usage:
    verify_audit.py [--partial] [FILE]     FILE "-" or absent: read stdin

Exit status: 0 chain intact, 1 first failure reported on stderr
("FAIL seq N: ..." or "FAIL line L: ..."), 2 usage error or unreadable input.
"""

import argparse
import datetime
import hashlib
import json
import re
import sys

ZERO_HASH = "0" * 64
KEYS = frozenset(
    ["seq", "id", "stream", "version", "type", "typeVersion", "at",
     "actor", "data", "prevHash", "hash"]
)
TYPES = frozenset(
    ["ShareCreated", "ShareUpdated", "ShareDeleted", "ShareVisited", "SharePreviewed",
     "ShareLinkAdded", "ShareLinkRevoked", "NotifySettingsChanged"]
)
ACTOR_KEYS = frozenset(["userId", "username"])

HEX64 = re.compile(r"[0-9a-f]{64}")
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
RFC3339_UTC = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z")
SEQ_HINT = re.compile(rb'"seq"\s*:\s*(\d{1,20})')


class Fail(Exception):
    """A verification failure: names the seq when known, else the line."""

    def __init__(self, reason, seq=None):
        super().__init__(reason)
        self.reason = reason
        self.seq = seq


class Parser:
    """json.loads with per-line detection of floats, NaN/Infinity and duplicate keys."""

    def __init__(self):
        self.problem = None
        self._decoder = json.JSONDecoder(
            object_pairs_hook=self._object,
            parse_float=self._float,
            parse_constant=self._constant,
        )

    def _note(self, problem):
        if self.problem is None:
            self.problem = problem

    def _object(self, pairs):
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen = set()
            for key, _ in pairs:
                if key in seen:
                    self._note("duplicate key %s" % json.dumps(key, ensure_ascii=False))
                    break
                seen.add(key)
        return obj

    def _float(self, text):
        self._note("floating-point number %s (only integers are allowed)" % text)
        return 0

    def _constant(self, text):
        self._note("non-finite number %s is not allowed" % text)
        return 0

    def parse(self, text):
        self.problem = None
        return self._decoder.decode(text)


def is_int(value):
    return type(value) is int  # bool is a subclass of int: exclude it


def valid_timestamp(text):
    m = RFC3339_UTC.fullmatch(text)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return hour <= 23 and minute <= 59 and second <= 60  # 60: leap second


def check_form(ev, seq):
    """Rule 1, for an object whose seq is already known to be a positive integer."""
    keys = set(ev)
    missing = sorted(KEYS - keys)
    if missing:
        raise Fail("missing key(s): %s" % ", ".join(missing), seq)
    extra = sorted(keys - KEYS)
    if extra:
        raise Fail("unexpected key(s): %s" % ", ".join(json.dumps(k, ensure_ascii=False) for k in extra), seq)

    if not (isinstance(ev["id"], str) and UUID4.fullmatch(ev["id"])):
        raise Fail('"id" is not a lowercase UUID v4 string', seq)
    if not (isinstance(ev["stream"], str) and ev["stream"]):
        raise Fail('"stream" is not a non-empty string', seq)
    if not (is_int(ev["version"]) and ev["version"] >= 1):
        raise Fail('"version" is not an integer >= 1', seq)
    if not (isinstance(ev["type"], str) and ev["type"] in TYPES):
        raise Fail('"type" is not one of %s' % ", ".join(sorted(TYPES)), seq)
    if not (is_int(ev["typeVersion"]) and ev["typeVersion"] >= 1):
        raise Fail('"typeVersion" is not an integer >= 1', seq)
    if not (isinstance(ev["at"], str) and valid_timestamp(ev["at"])):
        raise Fail('"at" is not an RFC 3339 UTC timestamp ending in "Z"', seq)
    actor = ev["actor"]
    if actor is not None:
        if not (isinstance(actor, dict) and set(actor) == ACTOR_KEYS
                and all(isinstance(actor[k], str) for k in ACTOR_KEYS)):
            raise Fail('"actor" is neither null nor {"userId": string, "username": string}', seq)
    if not isinstance(ev["data"], dict):
        raise Fail('"data" is not an object', seq)
    for key in ("prevHash", "hash"):
        if not (isinstance(ev[key], str) and HEX64.fullmatch(ev[key])):
            raise Fail('"%s" is not 64 lowercase hex digits' % key, seq)
    if seq == 1 and ev["prevHash"] != ZERO_HASH:
        raise Fail('seq 1 must have the zero prevHash ("0" * 64)', seq)
    if seq != 1 and ev["prevHash"] == ZERO_HASH:
        raise Fail("only seq 1 may have the zero prevHash", seq)


def canonical_bytes(ev):
    """The event without "hash", as canonical JSON (docs/audit.md, "Canonical bytes").

    Equal to the definition because every key is ASCII and floats were rejected.
    """
    body = {k: v for k, v in ev.items() if k != "hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")  # raises UnicodeEncodeError on lone surrogates


def event_hash(prev_hash, canonical):
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


def verify(stream, partial):
    """Check every line; raise Fail at the first problem. Returns (count, last_seq, head)."""
    parser = Parser()
    count = 0
    prev_seq = None
    prev_hash = None

    for lineno, raw in enumerate(stream, 1):
        where = " (line %d)" % lineno

        def line_fail(reason, raw=raw, lineno=lineno):
            hint = SEQ_HINT.search(raw)
            seq_note = " (seq %s)" % hint.group(1).decode() if hint else ""
            return Fail("line %d%s: %s" % (lineno, seq_note, reason))

        if raw.endswith(b"\n"):
            raw = raw[:-1]
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raise line_fail("starts with a UTF-8 byte order mark")
        if not raw.strip():
            raise line_fail("empty line")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise line_fail("not valid UTF-8 (byte %d)" % e.start)
        try:
            ev = parser.parse(text)
        except (ValueError, RecursionError) as e:
            raise line_fail("not valid JSON: %s" % e)
        if not isinstance(ev, dict):
            raise line_fail("not a JSON object")
        seq = ev.get("seq")
        if not (is_int(seq) and seq >= 1):
            raise line_fail('"seq" is missing or not an integer >= 1')

        # Rule 1: form.
        if parser.problem is not None:
            raise Fail(parser.problem + where, seq)
        try:
            check_form(ev, seq)
        except Fail as f:
            raise Fail(f.reason + where, seq)

        # Rules 3 and 4: order and links.
        if prev_seq is None:
            if not partial and seq != 1:
                raise Fail("a complete export must start at seq 1, this one starts at seq %d"
                           " (use --partial for a filtered export)%s" % (seq, where), seq)
        else:
            if seq <= prev_seq:
                raise Fail("seq does not increase (previous line has seq %d)%s"
                           % (prev_seq, where), seq)
            if seq != prev_seq + 1 and not partial:
                raise Fail("seq gap: expected seq %d after seq %d%s"
                           % (prev_seq + 1, prev_seq, where), seq)
            if seq == prev_seq + 1 and ev["prevHash"] != prev_hash:
                raise Fail("prevHash %s does not match the hash of seq %d (%s)%s"
                           % (ev["prevHash"], prev_seq, prev_hash, where), seq)

        # Rule 2: the hash itself.
        try:
            canonical = canonical_bytes(ev)
        except UnicodeEncodeError:
            raise Fail("a string contains a lone surrogate (not valid Unicode)" + where, seq)
        computed = event_hash(ev["prevHash"], canonical)
        if computed != ev["hash"]:
            raise Fail("hash mismatch: the line says %s, recomputed %s%s"
                       % (ev["hash"], computed, where), seq)

        count += 1
        prev_seq = seq
        prev_hash = ev["hash"]

    return count, (prev_seq or 0), (prev_hash or ZERO_HASH)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="verify_audit.py",
        description="Verify the hash chain of a sharelog audit export (JSON Lines), "
                    "as defined in docs/audit.md.",
        epilog="Exit status: 0 intact, 1 verification failure (first bad seq on stderr), "
               "2 usage error or unreadable input.",
    )
    ap.add_argument("file", nargs="?", default="-",
                    help='export file; "-" or absent reads standard input')
    ap.add_argument("--partial", action="store_true",
                    help="the export is filtered (by share, type or time): allow seq gaps "
                         "and take the first line's prevHash as given")
    args = ap.parse_args(argv)

    try:
        if args.file == "-":
            stream = sys.stdin.buffer
        else:
            stream = open(args.file, "rb")
    except OSError as e:
        print("verify_audit.py: cannot read %s: %s" % (args.file, e.strerror or e), file=sys.stderr)
        return 2

    try:
        with stream:
            count, last_seq, head = verify(stream, args.partial)
    except Fail as f:
        where = "seq %d" % f.seq if f.seq is not None else ""
        print("FAIL %s%s%s" % (where, ": " if where else "", f.reason), file=sys.stderr)
        return 1
    except OSError as e:
        print("verify_audit.py: cannot read %s: %s" % (args.file, e.strerror or e), file=sys.stderr)
        return 2

    print("OK %d events, last seq %d, head %s" % (count, last_seq, head))
    return 0


if __name__ == "__main__":
    sys.exit(main())
