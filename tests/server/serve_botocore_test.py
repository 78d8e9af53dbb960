#!/usr/bin/env python3
"""`jobledger serve` driven by botocore (python3-botocore, the library under awscli
and boto3) as an unmodified client of both planes: the control plane (`iot`) and the
device plane (`iot-jobs-data`) on one port, authentication and authorization, errors as
the SDK's exception classes, time travel under /at-seq/, and a clean SIGTERM.

Usage: serve_botocore_test.py <path of the jobledger binary>
"""
import json
import os
import signal
import subprocess
import sys
import tempfile

try:
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError:
    sys.exit("serve_botocore_test: botocore is missing: scripts/setup.sh installs Debian's python3-botocore")

JOBLEDGER = sys.argv[1]
REGION = "us-east-1"
ACCOUNT = "123456789012"
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def error_code(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def cli(db, *args):
    out = subprocess.run([JOBLEDGER, "--db", db, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("jobledger %s: %s" % (" ".join(args), out.stderr))
    return json.loads(out.stdout)


def main():
    work = tempfile.mkdtemp(prefix="jobledger-serve-")
    db = os.path.join(work, "ledger")
    creds = os.path.join(work, "principals.json")
    with open(creds, "w") as f:
        json.dump({"principals": [
            {"accessKeyId": "ADMINKEY", "secretAccessKey": "admin-secret", "principal": "user:alice", "role": "admin"},
            {"accessKeyId": "READERKEY", "secretAccessKey": "reader-secret", "principal": "user:bob", "role": "reader"},
            {"accessKeyId": "T1KEY", "secretAccessKey": "t1-secret", "principal": "thing:t1", "role": "device",
             "thingName": "t1"},
        ]}, f)
    os.chmod(creds, 0o600)
    server = subprocess.Popen([JOBLEDGER, "--db", db, "serve", "--listen", "127.0.0.1:0", "--credentials", creds],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline().strip()
    check(line.startswith("listening on http://127.0.0.1:"), "first line: " + line)
    endpoint = line[len("listening on "):]
    session = botocore.session.get_session()
    config = Config(retries={"max_attempts": 1})

    def client(service, key, secret, url=endpoint):
        return session.create_client(service, region_name=REGION, endpoint_url=url, aws_access_key_id=key,
                                     aws_secret_access_key=secret, config=config)

    try:
        iot = client("iot", "ADMINKEY", "admin-secret")
        group_arn = "arn:aws:iot:%s:%s:thinggroup/fleet" % (REGION, ACCOUNT)
        iot.add_thing_to_thing_group(thingGroupName="fleet", thingName="t1")
        iot.add_thing_to_thing_group(thingGroupName="fleet", thingName="t2")
        created = iot.create_job(jobId="fw-1", targets=[group_arn], document='{"url": "s3://fw/1.bin"}',
                                 description="firmware 1")
        check(created["jobId"] == "fw-1" and created["jobArn"].endswith(":job/fw-1"), "CreateJob: %r" % created)
        job = iot.describe_job(jobId="fw-1")["job"]
        check(job["status"] == "IN_PROGRESS", "DescribeJob status: %r" % job["status"])
        check(job["jobProcessDetails"]["numberOfQueuedThings"] == 2, "queued: %r" % job["jobProcessDetails"])
        check(iot.get_job_document(jobId="fw-1")["document"] == '{"url": "s3://fw/1.bin"}', "GetJobDocument")
        check([j["jobId"] for j in iot.list_jobs()["jobs"]] == ["fw-1"], "ListJobs")
        check(len(iot.list_job_executions_for_job(jobId="fw-1")["executionSummaries"]) == 2,
              "ListJobExecutionsForJob")
        head_before = cli(db, "stats")["headSequence"]

        # Errors arrive as the SDK's own exception classes.
        check(error_code(lambda: iot.describe_job(jobId="nope")) == ("ResourceNotFoundException", 404),
              "DescribeJob of an unknown job")
        check(error_code(lambda: iot.create_job(jobId="fw-1", targets=[group_arn], document="{}"))
              == ("ResourceAlreadyExistsException", 409), "CreateJob twice")
        check(error_code(lambda: iot.create_job(jobId="bad*id", targets=[group_arn], document="{}"))[0]
              == "InvalidRequestException", "CreateJob with a bad jobId")

        # The device plane, with a device's own key.
        device = client("iot-jobs-data", "T1KEY", "t1-secret")
        pending = device.get_pending_job_executions(thingName="t1")
        check([e["jobId"] for e in pending["queuedJobs"]] == ["fw-1"], "GetPendingJobExecutions: %r" % pending)
        started = device.start_next_pending_job_execution(thingName="t1", statusDetails={"step": "download"})
        check(started["execution"]["status"] == "IN_PROGRESS", "StartNext: %r" % started)
        version = started["execution"]["versionNumber"]
        check(error_code(lambda: device.update_job_execution(thingName="t1", jobId="fw-1", status="SUCCEEDED",
                                                             expectedVersion=version + 5))[0]
              == "VersionConflictException", "a stale expectedVersion")
        device.update_job_execution(thingName="t1", jobId="fw-1", status="SUCCEEDED", expectedVersion=version)
        check(error_code(lambda: device.update_job_execution(thingName="t1", jobId="fw-1", status="IN_PROGRESS"))[0]
              == "InvalidStateTransitionException", "an illegal move")
        check(error_code(lambda: device.get_pending_job_executions(thingName="t2")) == ("AccessDeniedException", 403),
              "a device reading another thing")
        check(error_code(lambda: device.describe_job_execution(thingName="t1", jobId="fw-1"))
              == ("InvalidRequestException", 400), "the device plane's DescribeJobExecution, not served yet")

        # Authorization and authentication refuse, and append nothing.
        head = cli(db, "stats")["headSequence"]
        reader = client("iot", "READERKEY", "reader-secret")
        check(reader.describe_job(jobId="fw-1")["job"]["jobId"] == "fw-1", "a reader reads")
        check(error_code(lambda: reader.cancel_job(jobId="fw-1")) == ("UnauthorizedException", 401),
              "a reader writing")
        device_on_control = client("iot", "T1KEY", "t1-secret")
        check(error_code(lambda: device_on_control.cancel_job(jobId="fw-1")) == ("UnauthorizedException", 401),
              "a device on the control plane")
        wrong = client("iot", "ADMINKEY", "not-the-secret")
        check(error_code(lambda: wrong.cancel_job(jobId="fw-1")) == ("InvalidSignatureException", 403),
              "a wrong secret")
        unknown = client("iot", "NOBODY", "x")
        check(error_code(lambda: unknown.cancel_job(jobId="fw-1")) == ("UnrecognizedClientException", 403),
              "an unknown key")
        check(cli(db, "stats")["headSequence"] == head, "refused calls appended nothing")

        # Time travel: the endpoint's path prefix is kept by the SDK.
        past = client("iot", "ADMINKEY", "admin-secret", endpoint + "/at-seq/%d" % head_before)
        then = past.describe_job(jobId="fw-1")["job"]["jobProcessDetails"]
        expected = cli(db, "--at-seq", str(head_before), "describe-job", "--job-id", "fw-1")["job"]["jobProcessDetails"]
        check(then == expected, "DescribeJob at-seq %d: %r != %r" % (head_before, then, expected))
        check(then["numberOfQueuedThings"] == 2, "at-seq sees the past: %r" % then)
        check(error_code(lambda: past.cancel_job(jobId="fw-1"))[0] == "InvalidRequestException",
              "a write under /at-seq/")
        check(cli(db, "stats")["headSequence"] == head, "the write under /at-seq/ appended nothing")
        check(cli(db, "verify")["verified"], "the chain verifies")

        # Health and metrics, unsigned; the metrics parse as Prometheus text.
        import re
        import urllib.request
        ping = json.loads(urllib.request.urlopen(endpoint + "/ping").read())
        check(ping == {"status": "ok", "headSequence": head}, "ping: %r" % ping)
        metrics = urllib.request.urlopen(endpoint + "/metrics").read().decode()
        sample = re.compile(r'^[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? [0-9.e+-]+$')
        for m in metrics.splitlines():
            check(m.startswith("# HELP ") or m.startswith("# TYPE ") or sample.match(m), "metrics line: %r" % m)
        check('jobledger_requests_total{operation="CreateJob",status="200"} 1' in metrics, "CreateJob counted")
        check('jobledger_requests_total{operation="CreateJob",status="409"} 1' in metrics, "the conflict counted")
        check('jobledger_request_duration_seconds_count{operation="DescribeJob"}' in metrics, "latency histogram")
        check("jobledger_writer_groups_total " in metrics and "jobledger_writer_queue_depth 0" in metrics,
              "writer figures")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            code = "killed"
        err = server.stderr.read()
        check(code == 0, "SIGTERM: exit %r, stderr: %s" % (code, err))
    if failures:
        sys.exit("%d check(s) failed" % len(failures))
    print("serve_botocore_test: all checks passed")


main()
