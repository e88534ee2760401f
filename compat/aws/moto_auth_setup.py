#!/usr/bin/env python3
"""Turns a fresh moto server into a signature checker and prints credentials it accepts.

    python3 moto_auth_setup.py http://127.0.0.1:PORT   # prints KEY_ID SECRET on one line

While auth is still off, creates an IAM user with an inline Allow *:* policy and an access key, then
switches auth on (POST /moto-api/reset-auth with body 0). From then on moto recomputes every
request's SigV4 signature with botocore and refuses wrong ones (403 SignatureDoesNotMatch,
InvalidAccessKeyId). Loopback only; the credentials are throwaway values of that server.
"""
import json, sys, urllib.request

import boto3

endpoint = sys.argv[1]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="ci")
iam.put_user_policy(UserName="ci", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="ci")["AccessKey"]
request = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
with urllib.request.urlopen(request, timeout=10) as response:
    response.read()
print(key["AccessKeyId"], key["SecretAccessKey"])
