#!/usr/bin/env python3
"""SigV4 reference vectors from botocore: fixed requests, fixed credentials, fixed time.

    python3 compat/aws/sigv4_vectors.py                 # prints each case's Authorization header
    python3 compat/aws/sigv4_vectors.py --json > Fixtures/sigv4/vectors.json

Needs only botocore (compat/requirements-aws.txt; the moto venv has the same pin); no network.
The first four cases are published AWS signatures and the script fails if botocore disagrees.
Each case records the request as the Swift client sends it (URL with the path and query already
percent-encoded, headers, body), botocore's canonical request, string to sign, signature and the
headers botocore added, so Tests/AWSTests can compare byte for byte.
"""
import base64, datetime, json, sys
from unittest import mock

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode


def botocore_sign(method, url, headers, body, service, region, key, secret, when,
                  token=None, unsigned_payload=False, params=None):
    """Sign like boto3 does: S3SigV4Auth for s3 (no path normalisation, adds
    X-Amz-Content-SHA256), SigV4Auth for everything else."""
    base = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    seen = {}

    class Capture(base):
        def string_to_sign(self, request, canonical_request):
            seen["canonical_request"] = canonical_request
            seen["string_to_sign"] = super().string_to_sign(request, canonical_request)
            return seen["string_to_sign"]

        def signature(self, string_to_sign, request):
            seen["signature"] = super().signature(string_to_sign, request)
            return seen["signature"]

    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body,
                     params=[tuple(pair) for pair in params] if params else None)
    if unsigned_payload:  # S3 only: X-Amz-Content-SHA256: UNSIGNED-PAYLOAD
        req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    signer = Capture(Credentials(key, secret, token), service, region)
    clock = mock.patch.object(botocore.auth, "get_current_datetime", return_value=when)
    with clock:
        signer.add_auth(req)
    given = {k.lower() for k in headers}
    added = [[k, v] for k, v in req.headers.items() if k.lower() not in given]
    return dict(seen, authorization=req.headers["Authorization"], added_headers=added)


def strict(text):
    """RFC 3986 unreserved characters kept, everything else %XX (what the Swift client sends)."""
    return percent_encode(text, safe="-_.~")


def s3_path(bucket, key):
    """botocore's rest serializer encodes a greedy key label with safe='/~'."""
    return "/" + bucket + "/" + percent_encode(key, safe="/~") if bucket else "/" + percent_encode(key, safe="/~")


SUITE = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")       # aws-sig-v4-test-suite
S3DOC = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")  # S3 API docs examples
T2015 = datetime.datetime(2015, 8, 30, 12, 36, 0)
T2013 = datetime.datetime(2013, 5, 24, 0, 0, 0)
T2026 = datetime.datetime(2026, 1, 2, 3, 4, 5)
T2028 = datetime.datetime(2028, 2, 29, 23, 59, 59)
MOTO = "http://127.0.0.1:5055"
PDF = b"%PDF-1.4 fixture\n"
BINARY = bytes(range(256))
KEY = "resumes/2026/01/02/0f8fad5b-d9cb-469f-a165-70867728950e.pdf"
TOKEN = "FQoGZXIvYXdzEXAMPLETOKEN//+/session=="
START = json.dumps({"DocumentLocation": {"S3Object": {"Bucket": "resumes", "Name": KEY}},
                    "ClientRequestToken": "app-123"}, separators=(",", ":")).encode()
GET = json.dumps({"JobId": "8e4c2b1a-0000-4000-8000-000000000001", "MaxResults": 1000,
                  "NextToken": "abc/+="}, separators=(",", ":")).encode()
JSON_HEADERS = lambda op: {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Textract." + op}

# name, method, url (path encoded as sent), headers, body, service, region, creds, time,
# extra (token, unsigned_payload, params = decoded query pairs, s3_key = the decoded key in the
# path), published signature
CASES = [
    ("suite/get-vanilla", "GET", "https://example.amazonaws.com/", {}, b"", "service",
     "us-east-1", SUITE, T2015, {}, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("s3doc/get-object-range", "GET", "https://examplebucket.s3.amazonaws.com/test.txt",
     {"Range": "bytes=0-9"}, b"", "s3", "us-east-1", S3DOC, T2013, {},
     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
    ("s3doc/get-bucket-lifecycle", "GET", "https://examplebucket.s3.amazonaws.com/", {}, b"",
     "s3", "us-east-1", S3DOC, T2013, {"params": [["lifecycle", ""]]},
     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
    ("s3doc/list-objects", "GET", "https://examplebucket.s3.amazonaws.com/", {}, b"",
     "s3", "us-east-1", S3DOC, T2013, {"params": [["max-keys", "2"], ["prefix", "J"]]},
     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),

    # S3 path-style on a non-default port (moto), the four operations.
    ("s3/put-path-style", "PUT", MOTO + s3_path("resumes", KEY), {"Content-Type": "application/pdf"}, PDF,
     "s3", "us-east-1", SUITE, T2026, {"s3_key": KEY}, None),
    ("s3/put-binary", "PUT", MOTO + s3_path("resumes", KEY), {"Content-Type": "application/octet-stream"},
     BINARY, "s3", "us-east-1", SUITE, T2026, {}, None),
    ("s3/put-empty", "PUT", MOTO + s3_path("resumes", KEY), {"Content-Type": "text/plain; charset=utf-8"},
     b"", "s3", "us-east-1", SUITE, T2026, {}, None),
    ("s3/get", "GET", MOTO + s3_path("resumes", KEY), {}, b"", "s3", "us-east-1", SUITE, T2026, {}, None),
    ("s3/head", "HEAD", MOTO + s3_path("resumes", KEY), {}, b"", "s3", "us-east-1", SUITE, T2026, {}, None),
    ("s3/delete", "DELETE", MOTO + s3_path("resumes", KEY), {}, b"", "s3", "us-east-1", SUITE, T2026, {}, None),
    ("s3/create-bucket", "PUT", MOTO + "/resumes", {}, b"", "s3", "us-east-1", SUITE, T2026, {}, None),

    # Virtual-hosted style on AWS, default ports (explicit or not).
    ("s3/put-virtual-hosted", "PUT", "https://resumes.s3.eu-west-1.amazonaws.com" + s3_path(None, KEY),
     {"Content-Type": "application/pdf"}, PDF, "s3", "eu-west-1", SUITE, T2026, {"s3_key": KEY}, None),
    ("s3/get-explicit-default-port", "GET", "https://resumes.s3.eu-west-1.amazonaws.com:443" + s3_path(None, KEY),
     {}, b"", "s3", "eu-west-1", SUITE, T2026, {}, None),
    ("s3/get-http-port-80", "GET", "http://127.0.0.1:80" + s3_path("resumes", KEY),
     {}, b"", "s3", "us-east-1", SUITE, T2026, {}, None),
    ("s3/get-other-port-https", "GET", "https://minio.internal:9000" + s3_path("resumes", KEY),
     {}, b"", "s3", "us-east-1", SUITE, T2028, {}, None),

    # Keys that need encoding: space, +, parentheses, unicode, ~, reserved characters.
    ("s3/put-unicode-key", "PUT", MOTO + s3_path("resumes", "uploads/a b+c/résumé (2).pdf"),
     {"Content-Type": "application/pdf"}, PDF, "s3", "us-east-1", SUITE, T2026,
     {"s3_key": "uploads/a b+c/résumé (2).pdf"}, None),
    ("s3/get-reserved-key", "GET", MOTO + s3_path("resumes", "x/~tilde/!*'@$&=;:,?#[]%/日本語.txt"),
     {}, b"", "s3", "us-east-1", SUITE, T2026, {"s3_key": "x/~tilde/!*'@$&=;:,?#[]%/日本語.txt"}, None),

    # Query strings: strict encoding of names and values, sorted after encoding.
    ("s3/list-query", "GET", MOTO + "/resumes", {}, b"", "s3", "us-east-1", SUITE, T2026,
     {"params": [["prefix", "a b/c+d"], ["list-type", "2"], ["start-after", "é~*!"], ["delimiter", "/"],
                 ["encoding-type", "url"], ["fetch-owner", ""]]}, None),
    ("s3/query-sort-after-encoding", "GET", MOTO + "/resumes", {}, b"", "s3", "us-east-1", SUITE, T2026,
     {"params": [["b", "1"], ["B", "2"], ["a~", "3"], ["a-", "4"], ["a_", "5"], ["a.", "6"], ["a b", "7"]]},
     None),

    # UNSIGNED-PAYLOAD over https and over http (explicitly asked for).
    ("s3/put-unsigned-payload", "PUT", "https://resumes.s3.eu-west-1.amazonaws.com" + s3_path(None, KEY),
     {"Content-Type": "application/pdf"}, PDF, "s3", "eu-west-1", SUITE, T2026,
     {"unsigned_payload": True}, None),
    ("s3/put-unsigned-payload-http", "PUT", MOTO + s3_path("resumes", KEY),
     {"Content-Type": "application/pdf"}, PDF, "s3", "us-east-1", SUITE, T2026,
     {"unsigned_payload": True}, None),

    # Temporary credentials.
    ("s3/get-session-token", "GET", "https://resumes.s3.us-east-1.amazonaws.com" + s3_path(None, KEY), {}, b"",
     "s3", "us-east-1", SUITE, T2026, {"token": TOKEN}, None),
    ("s3/put-session-token-moto", "PUT", MOTO + s3_path("resumes", KEY), {"Content-Type": "application/pdf"},
     PDF, "s3", "us-east-1", SUITE, T2026, {"token": TOKEN}, None),

    # Header values are trimmed and inner whitespace collapsed; x-amz-* headers are signed.
    ("s3/put-header-whitespace", "PUT", MOTO + s3_path("resumes", KEY),
     {"Content-Type": "  application/pdf  ", "X-Amz-Meta-Note": "a   b \t c", "x-amz-meta-upper": "UP"},
     PDF, "s3", "us-east-1", SUITE, T2026, {}, None),

    # Textract (JSON 1.1): path "/", no X-Amz-Content-SHA256, body hash in the canonical request.
    ("textract/start-document-text-detection", "POST", "https://textract.us-east-1.amazonaws.com/",
     JSON_HEADERS("StartDocumentTextDetection"), START, "textract", "us-east-1", SUITE, T2026, {}, None),
    ("textract/get-document-text-detection-moto-token", "POST", MOTO + "/",
     JSON_HEADERS("GetDocumentTextDetection"), GET, "textract", "eu-central-1", SUITE, T2028,
     {"token": TOKEN}, None),

    # Other services normalise the path (dot segments, //) and encode it a second time.
    ("service/normalized-path", "GET", "https://example.amazonaws.com/a%20b/./c//d/../e%2Bf/", {}, b"",
     "service", "us-east-1", SUITE, T2015, {}, None),
]


def main():
    out = []
    for name, method, url, headers, body, service, region, (key, secret), when, extra, want in CASES:
        extra = dict(extra)
        s3_key = extra.pop("s3_key", None)
        params = extra.get("params")
        sent_url = url
        if params is not None:
            sent_url = url + "?" + "&".join(strict(k) + "=" + strict(v) for k, v in params)
        r = botocore_sign(method, url, headers, body, service, region, key, secret, when, **extra)
        if want and r["signature"] != want:
            sys.exit(f"{name}: botocore gave {r['signature']}, published value is {want}")
        out.append(dict(name=name, method=method, url=sent_url, query=params, s3_key=s3_key,
                        headers=[[k, v] for k, v in headers.items()],
                        body_base64=base64.b64encode(body).decode(),
                        service=service, region=region, access_key=key, secret_key=secret,
                        session_token=extra.get("token"), unsigned_payload=extra.get("unsigned_payload", False),
                        amz_date=when.strftime("%Y%m%dT%H%M%SZ"), **r))
    if "--json" in sys.argv:
        json.dump({"generator": "compat/aws/sigv4_vectors.py", "botocore": botocore.__version__, "cases": out},
                  sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        for c in out:
            print(f"{c['name']}\n  {c['authorization']}")


if __name__ == "__main__":
    main()
